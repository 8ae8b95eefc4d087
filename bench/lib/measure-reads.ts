/**
 * Reads as history grows (Kiln issue 11): GET /v1/builds (first page), GET /v1/models (first page)
 * and the dashboard overview (GET /dashboard, the whole page as the browser loads it, with a
 * signed-in session), over real HTTP against an API in this process, at each count of recorded
 * builds. Build records go in through BuildRecords (so every index and counter is the real one)
 * many calls at once on one connection (ioredis pipelines them); models are written as the
 * registry leaves them in Redis (see registerModels).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApi } from '../../src/api/main';
import { loadConfig } from '../../src/config';
import { createContext, type FarmContext } from '../../src/context';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import type { ModelInfo } from '../../src/core/onnx/model-info';
import { BuildOptionsSchema } from '../../src/core/options';
import type { BuildReport } from '../../src/core/report';
import { parseTargetKey } from '../../src/core/target';
import type { BuildState } from '../../src/state/build-records';
import type { ModelRecord } from '../../src/state/model-registry';
import { deletePrefix } from '../../test/helpers/farm';
import { stats, type Stats } from './measure-builds';

export interface ReadSettings {
  /** Recorded builds at each measurement, ascending; the first is the baseline. */
  buildCounts: number[];
  /** One model per this many builds. */
  buildsPerModel: number;
  /** Sequential requests per endpoint and count, after 30 warm-up ones (the first reads of a fresh API run cold code). */
  requests: number;
}

export interface ReadsAt {
  builds: number;
  models: number;
  fillSeconds: number;
  builds1: Stats;
  models1: Stats;
  overview: Stats;
}

const TARGETS = ['ort1.30.0-x86_64-avx2', 'ort1.30.0-x86_64-avx512', 'ort1.30.0-aarch64-neon', 'trt10.9.0-sm89', 'trt10.9.0-sm86', 'trt10.9.0-sm90', 'trt8.6.1-sm75', 'trt10.9.0-sm80'];
const TOKEN = 'bench-reads-admin-token-0123456789';
const BATCH = 5000;
const HOUR = 3_600_000;
const WARMUP = 30;
/** Default options, parsed once (builds differ by the validation seed). */
const BASE_OPTIONS = BuildOptionsSchema.parse({});

export async function measureReads(settings: ReadSettings, log: (line: string) => void): Promise<ReadsAt[]> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-reads-'));
  const prefix = `kb${randomBytes(5).toString('hex')}`;
  // No supervisor pass while measuring: it would find the queued records (which have no BullMQ
  // jobs here) stuck and queue them again, work of its own in the middle of the timed reads.
  const config = loadConfig({ KILN_PREFIX: prefix, KILN_HOME: home, KILN_PORT: '0', KILN_TOKENS: `admin:${TOKEN}`, KILN_LOG_LEVEL: 'warn', NODE_ENV: 'production', KILN_RATE_LIMIT_RPS: '0', KILN_RECONCILE_MS: String(3_600_000) });
  const api = await startApi(config, createContext(config, 'kiln-bench-reads'));
  const ctx = api.ctx;
  try {
    const signIn = await fetch(`${api.url}/dashboard/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: api.url },
      body: new URLSearchParams({ token: TOKEN }),
      redirect: 'manual',
    });
    const cookie = signIn.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) throw new Error(`Expected a session cookie from the dashboard sign-in but received ${signIn.status}`);
    const cases: [keyof Pick<ReadsAt, 'builds1' | 'models1' | 'overview'>, string, Record<string, string>][] = [
      ['builds1', '/v1/builds', { authorization: `Bearer ${TOKEN}` }],
      ['models1', '/v1/models', { authorization: `Bearer ${TOKEN}` }],
      ['overview', '/dashboard', { cookie }],
    ];

    const results: ReadsAt[] = [];
    const models: string[] = [];
    let recorded = 0;
    for (const count of settings.buildCounts) {
      const started = performance.now();
      const wantModels = Math.max(1, Math.ceil(count / settings.buildsPerModel));
      await fill(models.length, wantModels, (start, end) => registerModels(ctx, models, start, end));
      const modelsSeconds = (performance.now() - started) / 1000;
      await fill(recorded, count, (start, end) => recordBuilds(ctx, models, start, end, count));
      recorded = count;
      const fillSeconds = (performance.now() - started) / 1000;
      const counts = await ctx.builds.countByState();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if (total !== count) throw new Error(`Expected ${count} build records but the indexes hold ${total}`);
      log(`reads: ${count.toLocaleString('en-US')} builds and ${models.length.toLocaleString('en-US')} models recorded in ${fillSeconds.toFixed(1)} s (models ${modelsSeconds.toFixed(1)} s)`);

      const at: Partial<ReadsAt> = { builds: count, models: models.length, fillSeconds };
      for (const [name, url, headers] of cases) {
        const times: number[] = [];
        for (let i = 0; i < settings.requests + WARMUP; i++) {
          const t0 = performance.now();
          const response = await fetch(`${api.url}${url}`, { headers });
          const body = await response.text();
          const took = performance.now() - t0;
          if (response.status !== 200) throw new Error(`Expected 200 from GET ${url} but received ${response.status}: ${body.slice(0, 200)}`);
          if (i >= WARMUP) times.push(took);
        }
        at[name] = stats(times);
        log(`reads: GET ${url} at ${count.toLocaleString('en-US')} builds: p50 ${at[name]!.median.toFixed(2)} ms, p99 ${at[name]!.p99.toFixed(2)} ms`);
      }
      results.push(at as ReadsAt);
    }
    return results;
  } finally {
    await api.close();
    await deletePrefix(prefix);
    await rm(home, { recursive: true, force: true });
  }
}

/** Runs `step` over [from, to) in batches of BATCH, each batch's calls at once. */
async function fill(from: number, to: number, step: (start: number, end: number) => Promise<void>): Promise<void> {
  for (let start = from; start < to; start += BATCH) await step(start, Math.min(to, start + BATCH));
}

/**
 * Models as ModelRegistry.register leaves them in Redis (record, upload-order index, label and
 * its latest version), written in one pipeline per batch: no read measured here touches their
 * storage copies, and writing thousands of those would be most of the fill's time.
 */
async function registerModels(ctx: FarmContext, models: string[], start: number, end: number): Promise<void> {
  const { redis, keys } = ctx;
  const pipeline = redis.pipeline();
  const base = Date.now();
  for (let i = start; i < end; i++) {
    const sha = randomBytes(32).toString('hex');
    const label = `model-${i}@1`;
    const record: ModelRecord = { sha256: sha, size: 1_000_000 + i, info: modelInfo(sha, i), labels: [], uploadedAt: new Date(base + (i - start)).toISOString() };
    pipeline
      .hset(keys.models, sha, JSON.stringify(record))
      .zadd(keys.modelsByUpload, 0, `${record.uploadedAt}|${sha}`)
      .hset(keys.modelNames, label, sha)
      .hset(keys.modelLatest, `model-${i}`, 1)
      .rpush(keys.modelLabels(sha), label);
    models.push(sha);
  }
  await pipeline.exec();
}

/**
 * Builds [start, end): each its own (model, target, options), in the state mix of a busy farm,
 * finished across the last day (so the overview's chart has every hour filled).
 */
async function recordBuilds(ctx: FarmContext, models: string[], start: number, end: number, total: number): Promise<void> {
  const now = Date.now();
  await Promise.all(
    Array.from({ length: end - start }, async (_, j) => {
      const i = start + j;
      const targetKey = TARGETS[i % TARGETS.length];
      const model = models[Math.floor(i / TARGETS.length) % models.length];
      const options = { ...BASE_OPTIONS, validation: { ...BASE_OPTIONS.validation, seed: i } }; // a build key of its own
      const spec = makeBuildSpec(model, parseTargetKey(targetKey), options);
      const id = buildKeyOf(spec);
      const roll = i % 100;
      const state: BuildState = roll < 80 ? 'succeeded' : roll < 90 ? 'failed' : roll < 93 ? 'cancelled' : roll < 98 ? 'queued' : 'active';
      await ctx.builds.ensure(spec, id, 'queued');
      if (state === 'queued') return;
      const at = new Date(now - Math.floor((i / total) * 23 * HOUR)).toISOString();
      await ctx.builds.update(id, {
        state,
        startedAt: at,
        attempts: 1,
        worker: 'bench-worker',
        ...(state === 'active' ? { phase: 'building', percent: 40 } : { finishedAt: at, percent: state === 'succeeded' ? 100 : 0 }),
        ...(state === 'succeeded' ? { verdict: 'pass', report: report(id, targetKey) } : {}),
        ...(state === 'failed' ? { error: 'Validation failed against onnxruntime-cpu: logits: 12.5% of elements outside isclose(rtol=0.001, atol=1e-05)' } : {}),
      });
    }),
  );
}

function modelInfo(sha256: string, i: number): ModelInfo {
  return {
    sha256,
    size: 1_000_000 + i,
    irVersion: 8,
    producerName: 'bench',
    producerVersion: '1',
    opsets: { '': 17 },
    graphName: `model${i}`,
    inputs: [{ name: 'input', elementType: 'float', dims: ['batch', 3, 224, 224] }],
    outputs: [{ name: 'logits', elementType: 'float', dims: ['batch', 1000] }],
    nodeCount: 120,
    initializerCount: 60,
  };
}

/** A report of realistic size (validation and six benchmark rows), so records weigh what real ones do. */
function report(buildKey: string, targetKey: string): BuildReport {
  const s = (m: number) => ({ min: m * 0.9, mean: m, median: m, p90: m * 1.1, p95: m * 1.2, p99: m * 1.4, max: m * 2 });
  return {
    schema: 1,
    buildKey,
    targetKey,
    toolchain: { name: 'onnxruntime', version: '1.30.0' },
    build: { seconds: 12.5, details: { graphOptimizationLevel: 'all' } },
    validation: {
      verdict: 'pass',
      reference: 'onnxruntime-cpu (optimizations disabled)',
      rtol: 1e-3,
      atol: 1e-5,
      seed: 0,
      failRatio: 0.01,
      inputs: { input: { dims: [1, 3, 224, 224], type: 'float', source: 'seeded' } },
      outputs: [{ name: 'logits', elements: 1000, mismatched: 0, mismatchRatio: 0, maxAbsError: 1e-6, maxRelError: 1e-5, nonFinite: 0, verdict: 'pass' }],
    },
    benchmark: {
      dynamicBatch: true,
      rows: [1, 2, 4, 8, 16, 32].map((batch) => ({ batch, iterations: 50, latencyMs: s(batch * 1.5), throughputQps: 1000 / (batch * 1.5), throughputSps: 1000 / 1.5, memoryBytes: 200e6 })),
    },
    warnings: [],
  };
}
