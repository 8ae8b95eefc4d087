/**
 * `options.queueTimeoutSeconds` (src/api/queue-expiry.ts), on a real farm and real Redis: a build
 * for a target no worker serves fails once past its queue timeout, saying why it waited, and leaves
 * its queue; one without the option keeps waiting, and the option's absence keeps build keys as
 * they were. The supervisor's pass is called with a clock moved ahead instead of waiting for it.
 */
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { BuildOptionsSchema } from '../../src/core/options';
import { toTarget } from '../../src/core/target';
import { expireQueuedBuilds } from '../../src/api/queue-expiry';
import { tinyMlp } from '../models';
import { readEvents, startFarm, type TestFarm } from '../helpers/farm';

// No worker of a test farm serves this target.
const UNSERVED = 'ort1.30.0-aarch64-neon';

describe('a queued build with options.queueTimeoutSeconds', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startFarm();
    await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: tinyMlp(), headers: { 'content-type': 'application/octet-stream' } });
  });
  afterAll(() => farm.stop());

  async function submit(options: object): Promise<string> {
    const response = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [UNSERVED], options } });
    expect(response.status).toBe(202);
    return (await response.json()).builds[0].buildKey;
  }
  const build = async (key: string) => (await farm.request('GET', `/v1/builds/${key}`, { role: 'reader' })).json();

  it('fails past its timeout with the reason it waited, and leaves its queue', async () => {
    const expiring = await submit({ queueTimeoutSeconds: 60, benchmark: { iterations: 3 } });
    const patient = await submit({ benchmark: { iterations: 4 } });
    const ctx = farm.api.ctx;

    // Not yet due: nothing expires.
    expect(await expireQueuedBuilds(ctx, Date.now() + 30_000)).toBe(0);
    expect((await build(expiring)).state).toBe('queued');

    const stream = await farm.request('GET', `/v1/builds/${expiring}/events?log=0`, { role: 'reader' });
    const failedEvent = readEvents(stream, (e) => e.event === 'state' && e.data.state === 'failed');
    // A day later: only the build that asked for an expiry fails.
    expect(await expireQueuedBuilds(ctx, Date.now() + 24 * 3600_000)).toBe(1);

    const failed = await build(expiring);
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain('Waited more than 60 s in the queue (options.queueTimeoutSeconds) and expired: No live worker serves ort1.30.0-aarch64-neon');
    const events = await failedEvent;
    expect(events[events.length - 1].data.error).toContain('options.queueTimeoutSeconds');
    expect((await ctx.queues.jobStatus(UNSERVED, expiring)).state).toBe('missing');

    expect((await build(patient)).state).toBe('queued');
    expect((await ctx.queues.jobStatus(UNSERVED, patient)).state).toBe('waiting');
  });

  it('is absent from a spec that does not set it, so existing build keys stay the same', () => {
    const options = BuildOptionsSchema.parse({});
    expect('queueTimeoutSeconds' in options).toBe(false);
    const spec = makeBuildSpec('a'.repeat(64), toTarget(UNSERVED), options);
    expect(JSON.stringify(spec)).not.toContain('queueTimeoutSeconds');
    expect(buildKeyOf(spec)).not.toBe(buildKeyOf(makeBuildSpec('a'.repeat(64), toTarget(UNSERVED), BuildOptionsSchema.parse({ queueTimeoutSeconds: 60 }))));
  });

  it('refuses a timeout that is not a positive whole number of seconds, naming the option', async () => {
    const response = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [UNSERVED], options: { queueTimeoutSeconds: 0 } } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('queueTimeoutSeconds');
  });
});
