/**
 * GET /metrics parsed by a real Prometheus text-format parser, moving as a build runs: builds by
 * state and target, the queue, live workers and their telemetry, the worker's build and phase
 * histograms (carried through Redis), and HTTP latency by route template.
 */
// parse-prometheus-text-format ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Family[];
import { tinyConv } from '../models';
import { startFarm, waitForBuild, type TestFarm } from '../helpers/farm';

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  type: string;
  help: string;
  metrics: Sample[];
}

type Scrape = Map<string, Family> & { text?: string };

async function scrape(farm: TestFarm): Promise<Scrape> {
  const response = await farm.request('GET', '/metrics', { role: 'reader' });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  const families: Scrape = new Map(parsePrometheus(text).map((f) => [f.name, f]));
  families.text = text;
  return families;
}

/**
 * The parser keeps a labelled histogram's buckets but drops its labels, _count and _sum (it
 * merges only samples whose labels are equal, and `le` differs): histogram counts are read from
 * the `_count` line of the same, parsed, document.
 */
function histogramCount(families: Scrape, name: string, labels: Record<string, string>): number {
  expect(families.get(name)?.type).toBe('HISTOGRAM');
  for (const line of families.text!.split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== `${name}_count`) continue;
    const have = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

function value(families: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}

describe('GET /metrics', () => {
  let farm: TestFarm;
  let target: string;
  let workerId: string;

  beforeAll(async () => {
    farm = await startFarm();
    const worker = await farm.startWorker();
    target = worker.targets[0];
    workerId = worker.id;
  });
  afterAll(() => farm.stop());

  it('needs a token', async () => {
    expect((await farm.request('GET', '/metrics', { role: null })).status).toBe(401);
  });

  it('moves as a build is queued, runs and succeeds', async () => {
    const before = await scrape(farm);
    expect(before.get('kiln_live_workers')?.type).toBe('GAUGE');
    expect(value(before, 'kiln_live_workers')).toBe(1);
    expect(value(before, 'kiln_target_live_workers', { target })).toBe(1);
    expect(value(before, 'kiln_builds', { state: 'succeeded', target })).toBe(0);
    // The CPU worker's heartbeat carries host CPU telemetry.
    expect(value(before, 'kiln_worker_memory_total_bytes', { worker: workerId, source: 'cpu' })).toBeGreaterThan(0);

    const upload = await farm.request('POST', '/v1/models?name=metrics-model', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const submitted = await (
      await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'metrics-model', targets: [target], options: { benchmark: { maxBatch: 1, warmup: 0, iterations: 1 } } } })
    ).json();
    const build = await waitForBuild(farm, submitted.builds[0].id);
    expect(build.state).toBe('succeeded');

    const after = await scrape(farm);
    expect(value(after, 'kiln_builds', { state: 'succeeded', target })).toBe(1);
    expect(value(after, 'kiln_builds', { state: 'queued', target })).toBe(0);
    expect(value(after, 'kiln_queue_jobs', { target, state: 'waiting' })).toBe(0);

    // The worker's own numbers, through Redis, labelled with its id.
    const builds = after.get('kiln_build_duration_seconds');
    expect(builds?.type).toBe('HISTOGRAM');
    expect(histogramCount(after, 'kiln_build_duration_seconds', { worker: workerId, target, outcome: 'succeeded' })).toBe(1);
    expect(value(after, 'kiln_build_attempts_total', { worker: workerId, target, outcome: 'succeeded' })).toBe(1);
    for (const phase of ['preparing', 'building', 'validating', 'benchmarking', 'publishing']) {
      expect(histogramCount(after, 'kiln_build_phase_duration_seconds', { worker: workerId, target, phase })).toBe(1);
    }

    // HTTP latency by route template, never by raw path.
    const routes = new Set([...after.text!.matchAll(/^kiln_http_request_duration_seconds_count\{.*route="([^"]*)"/gm)].map((m) => m[1]));
    expect(routes).toContain('/v1/builds');
    expect(routes).toContain('/v1/models');
    expect(routes).toContain('/v1/builds/:id');
    expect([...routes].some((r) => r?.includes(submitted.builds[0].id))).toBe(false);
    expect(histogramCount(after, 'kiln_http_request_duration_seconds', { route: '/v1/builds', method: 'POST', status: '202' })).toBe(1);
    expect(after.get('kiln_storage_errors_total')?.type).toBe('COUNTER');
    expect(after.get('kiln_redis_errors_total')?.type).toBe('COUNTER');
  });

  it('shows work waiting for a target no worker serves, and how old it is', async () => {
    const unserved = 'ort1.30.0-aarch64-neon';
    const submitted = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'metrics-model', targets: [unserved] } })).json();
    expect(submitted.builds[0].state).toBe('queued');
    const families = await scrape(farm);
    expect(value(families, 'kiln_queue_jobs', { target: unserved, state: 'waiting' })).toBe(1);
    expect(value(families, 'kiln_target_live_workers', { target: unserved })).toBe(0);
    expect(value(families, 'kiln_builds', { state: 'queued', target: unserved })).toBe(1);
    expect(value(families, 'kiln_queue_oldest_job_age_seconds', { target: unserved })).toBeGreaterThanOrEqual(0);
    expect(families.get('kiln_queue_oldest_job_age_seconds')!.metrics.find((m) => m.labels?.target === unserved)).toBeDefined();
  });
});
