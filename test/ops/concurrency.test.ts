/**
 * Answers that stay right under concurrency (atomic registration in Redis): of N concurrent
 * uploads of the same bytes exactly one is `created`; concurrent labels of one model all stay, in
 * Redis and in the stored record; of N identical concurrent submissions exactly one is not
 * `joined`, also when they requeue a failed build.
 */
import { modelInfoKey } from '../../src/storage/layout';
import { readJson } from '../../src/storage/read-json';
import type { ModelRecord } from '../../src/state/model-registry';
import { tinyMlp } from '../models';
import { startFarm, type TestFarm } from '../helpers/farm';

const octets = { 'content-type': 'application/octet-stream' };
// No worker serves it: builds stay queued while the test looks at them.
const UNSERVED = 'ort1.30.0-aarch64-neon';
const N = 40;

describe('concurrent requests', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    // 2 x N submissions in about a second: above the per-token rate limit this test is not about.
    farm = await startFarm({ env: { KILN_RATE_LIMIT_RPS: '1000' } });
  });
  afterAll(() => farm.stop());

  it('answer created: true to exactly one of many uploads of the same bytes', async () => {
    const model = tinyMlp({ seed: 41 });
    const answers = await Promise.all(Array.from({ length: N }, () => farm.request('POST', '/v1/models', { role: 'builder', body: model, headers: octets })));
    const bodies = await Promise.all(answers.map((a) => a.json()));
    expect(bodies.filter((b) => b.created === true)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(N - 1);
  });

  it('keep every one of concurrent labels of one model', async () => {
    const model = tinyMlp({ seed: 42 });
    const answers = await Promise.all([1, 2, 3, 4].map((v) => farm.request('POST', `/v1/models?name=same&version=${v}`, { role: 'builder', body: model, headers: octets })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
    const sha = (await answers[0].json()).sha256;
    const listed = await (await farm.request('GET', `/v1/models/${sha}`, { role: 'reader' })).json();
    expect([...listed.labels].sort()).toEqual(['same@1', 'same@2', 'same@3', 'same@4']);
    const stored = await readJson<ModelRecord>(farm.api.ctx.store, modelInfoKey(sha));
    expect([...stored!.labels].sort()).toEqual(['same@1', 'same@2', 'same@3', 'same@4']);
    for (const v of [1, 2, 3, 4]) expect((await farm.request('GET', `/v1/models/same@${v}`, { role: 'reader' })).status).toBe(200);
  });

  it('answer joined: false to exactly one of many identical submissions', async () => {
    await farm.request('POST', '/v1/models?name=joiner', { role: 'builder', body: tinyMlp({ seed: 43 }), headers: octets });
    const submit = () => farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'joiner', targets: [UNSERVED] } }).then((r) => r.json());
    const first = await Promise.all(Array.from({ length: N }, submit));
    expect(first.filter((b) => b.builds[0].joined === false)).toHaveLength(1);
    const buildKey = first[0].builds[0].buildKey;
    const jobs = await farm.api.ctx.queues.queue(UNSERVED).getJobCounts('waiting');
    expect(jobs.waiting).toBe(1);

    // Failed, then asked for again by many at once: one requeues it, the others join.
    await farm.request('DELETE', `/v1/builds/${buildKey}`, { role: 'builder' });
    expect((await farm.api.ctx.builds.get(buildKey))?.state).toBe('cancelled');
    const again = await Promise.all(Array.from({ length: N }, submit));
    expect(again.filter((b) => b.builds[0].joined === false)).toHaveLength(1);
    expect(again.every((b) => b.builds[0].state === 'queued')).toBe(true);
    expect((await farm.api.ctx.builds.get(buildKey))?.state).toBe('queued');
    expect((await farm.api.ctx.queues.queue(UNSERVED).getJobCounts('waiting')).waiting).toBe(1);
    const counts = await farm.api.ctx.builds.countByState();
    expect(counts.cancelled).toBe(0);
  });
});
