/**
 * Waiting builds say why, everywhere (src/api/waiting.ts): the submit answer, GET /v1/builds/:key,
 * the request, the event stream, `kiln status`, `kiln request`, `kiln workers` (queues with work
 * but no worker), `kiln fetch` and the build page. Real farm, real CLI processes.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tinyMlp } from '../models';
import { readEvents, startFarm, TOKENS, type TestFarm } from '../helpers/farm';

const ROOT = path.join(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
// No worker of a test farm serves this target.
const UNSERVED = 'ort1.30.0-aarch64-neon';
const NO_WORKER = `No live worker serves ${UNSERVED}; the build waits in its queue until one does`;

describe('a build waiting for a worker', () => {
  let farm: TestFarm;
  let buildKey: string;
  let request: string;

  function kiln(args: string[], token = TOKENS.admin): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, KILN_URL: farm.url, KILN_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    farm = await startFarm();
    await farm.request('POST', '/v1/models?name=mlp', { role: 'builder', body: tinyMlp(), headers: { 'content-type': 'application/octet-stream' } });
    const answer = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'mlp', targets: [UNSERVED] } })).json();
    buildKey = answer.builds[0].buildKey;
    request = answer.request;
    expect(answer.builds[0].waiting).toMatchObject({ reason: 'no-worker', workers: 0 });
    expect(answer.builds[0].waiting.message).toContain(NO_WORKER);
  });
  afterAll(() => farm.stop());

  it('says so in the build, the request and the event stream', async () => {
    const build = await (await farm.request('GET', `/v1/builds/${buildKey}`, { role: 'reader' })).json();
    expect(build.waiting).toMatchObject({ reason: 'no-worker' });
    const req = await (await farm.request('GET', `/v1/requests/${request}`, { role: 'reader' })).json();
    expect(req.builds[0].waiting.reason).toBe('no-worker');
    const list = await (await farm.request('GET', `/v1/builds?state=queued`, { role: 'reader' })).json();
    expect(list.builds.find((b: { buildKey: string }) => b.buildKey === buildKey).waiting.reason).toBe('no-worker');
    const [first] = await readEvents(await farm.request('GET', `/v1/builds/${buildKey}/events?log=0`, { role: 'reader' }), () => true);
    expect(first.data).toMatchObject({ state: 'queued', waiting: expect.stringContaining(NO_WORKER) });
  });

  it('says so in kiln status, request, workers and fetch', async () => {
    const status = await kiln(['status', buildKey]);
    expect(status.stdout).toMatch(new RegExp(`waiting:\\s+${NO_WORKER.slice(0, 30)}`));
    expect((await kiln(['request', request])).stdout).toContain(NO_WORKER);
    const workers = await kiln(['workers']);
    expect(workers.stdout).toContain('queues with work but no worker:');
    expect(workers.stdout).toContain(`${UNSERVED}: 1 queued build and no live worker serving it`);
    const fetched = await kiln(['fetch', 'mlp', '--target', UNSERVED, '-o', path.join(farm.home, 'fetched')], TOKENS.reader);
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toMatch(new RegExp(`pending:\\s+build ${buildKey.slice(0, 12)} for ${UNSERVED} is queued: ${NO_WORKER.slice(0, 30)}`));
  }, 60_000);

  it('tells a joiner it joined a queued build, and why it waits', async () => {
    const again = await kiln(['build', 'mlp', '--target', UNSERVED], TOKENS.builder);
    expect(again.stdout).toContain('joined a queued build');
    expect(again.stdout).not.toContain('joined a build in progress');
    expect(again.stdout).toContain(NO_WORKER);
  }, 30_000);

  it('says why on the build page, and what changes once a worker is busy', async () => {
    const { buildDetailData } = await import('../../src/api/dashboard/data/build-detail');
    const record = (await farm.api.ctx.builds.get(buildKey))!;
    expect((await buildDetailData(farm.api.ctx, record)).waiting?.reason).toBe('no-worker');
    const { waitingFor } = await import('../../src/api/waiting');
    const busy = { id: 'w', host: 'h', pid: 1, targets: [UNSERVED], toolchains: {}, hardware: {}, notes: [], currentBuild: 'x'.repeat(64), since: '', lastBeat: '' };
    expect(waitingFor(record, [busy])?.reason).toBe('workers-busy');
    const paused = { ...busy, currentBuild: null, paused: { dependency: 'storage' as const, reason: 'ECONNREFUSED', since: '2026-12-02T00:00:00Z' } };
    expect(waitingFor(record, [paused])).toMatchObject({ reason: 'workers-paused', message: expect.stringContaining('storage unavailable (ECONNREFUSED)') });
    expect(waitingFor(record, [{ ...busy, currentBuild: null }])?.reason).toBe('starting');
  });
});
