/**
 * The farm's own cost per build (Kiln issue 11), measured in the bench process against a farm of
 * one API and one CPU worker (test/helpers/farm.ts: real Redis, filesystem store, ONNX Runtime):
 *   - a build through the farm (submit -> succeeded, from the build record's times) against the
 *     same toolchain work done directly in-process (optimise, validate, benchmark);
 *   - builds per minute for tiny models, one worker;
 *   - submit -> active, against a bare BullMQ queue and worker on the same Redis;
 *   - Redis bytes per finished build;
 *   - resolve (cache miss) for a model with 1,000 and 5,000 published artifacts.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { InferenceSession } from 'onnxruntime-node';
import { ResolveHandler } from '../../src/api/resolve-handler';
import { TokenTable } from '../../src/api/auth';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest } from '../../src/core/manifest';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema, type BuildOptionsInput } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { benchmarkOnnxRuntime, validateOnnxRuntime } from '../../src/worker/toolchains/onnxruntime';
import type { BuildOutput, StepContext } from '../../src/worker/toolchains/toolchain';
import { deletePrefix, REDIS_URL, startFarm, TOKENS, waitForBuild, type TestFarm } from '../../test/helpers/farm';
import { mobilenetV2, tinyConv } from '../../test/models';

export interface BuildSettings {
  tinyBuilds: number;
  mobilenetBuilds: number;
  throughputBuilds: number;
  bareJobs: number;
  resolveCalls: number;
  artifactCounts: number[];
}

export interface Stats {
  median: number;
  p99: number;
  samples: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: at(0.5), p99: at(0.99), samples: sorted.length };
}

const ms = (from: string, to: string) => Date.parse(to) - Date.parse(from);

/** Distinct build keys for the same work: the benchmark's timed runs differ by one. */
const optionsFor = (i: number): BuildOptionsInput => ({ benchmark: { iterations: 50 + i } });

export async function measureBuilds(settings: BuildSettings, log: (line: string) => void) {
  const farm = await startFarm({ env: { KILN_LOG_LEVEL: 'error', NODE_ENV: 'production', KILN_RATE_LIMIT_RPS: '0' } });
  const redis = new Redis(REDIS_URL);
  try {
    const worker = await farm.startWorker();
    const target = worker.targets[0];
    const upload = async (name: string, bytes: Buffer) => {
      const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      if (res.status !== 201 && res.status !== 200) throw new Error(`Expected the upload of ${name} to succeed but received ${res.status}: ${await res.text()}`);
    };
    const submit = async (model: string, options: BuildOptionsInput): Promise<string> => {
      const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets: [target], options } });
      const body = await res.json();
      if (res.status !== 202) throw new Error(`Expected 202 from POST /v1/builds but received ${res.status}: ${JSON.stringify(body)}`);
      return body.builds[0].buildKey as string;
    };
    const record = async (buildKey: string) => {
      const build = await waitForBuild(farm, buildKey, 10 * 60_000);
      if (build.state !== 'succeeded') throw new Error(`Expected build ${buildKey} to succeed but it ended ${build.state}: ${build.error}`);
      return build as { createdAt: string; startedAt: string; finishedAt: string };
    };

    const overhead = async (name: string, bytes: Buffer, builds: number) => {
      await upload(name, bytes);
      const farmMs: number[] = [];
      const dispatchMs: number[] = [];
      // One warm-up build (first use of the optimiser process, ORT's first session), not counted.
      for (let i = 0; i <= builds; i++) {
        const build = await record(await submit(name, optionsFor(i)));
        if (i === 0) continue;
        farmMs.push(ms(build.createdAt, build.finishedAt));
        dispatchMs.push(ms(build.createdAt, build.startedAt));
      }
      const directMs = await directWork(bytes, target, builds);
      const farmStats = stats(farmMs);
      const directStats = stats(directMs);
      return { farm: farmStats, direct: directStats, ratio: farmStats.median / directStats.median, dispatchMs };
    };

    log(`tiny model: ${settings.tinyBuilds} builds through the farm, then the same work directly`);
    const tiny = await overhead('bench-tiny', tinyConv(), settings.tinyBuilds);
    log(`MobileNetV2: ${settings.mobilenetBuilds} builds through the farm, then the same work directly`);
    const mobilenet = await overhead('bench-mobilenet', mobilenetV2(), settings.mobilenetBuilds);

    log(`builds per minute: ${settings.throughputBuilds} tiny builds submitted at once`);
    const before = await redisBytes(redis, farm.config.prefix);
    await upload('bench-throughput', tinyConv({ seed: 7 }));
    const keys: string[] = [];
    for (let i = 0; i < settings.throughputBuilds; i++) keys.push(await submit('bench-throughput', optionsFor(i)));
    const records = [];
    for (const key of keys) records.push(await record(key));
    const first = Math.min(...records.map((r) => Date.parse(r.createdAt)));
    const last = Math.max(...records.map((r) => Date.parse(r.finishedAt)));
    const buildsPerMinute = (settings.throughputBuilds / (last - first)) * 60_000;
    const after = await redisBytes(redis, farm.config.prefix);
    const redisPerBuild = {
      persistent: (after.persistent - before.persistent) / settings.throughputBuilds,
      expiring: (after.expiring - before.expiring) / settings.throughputBuilds,
    };

    log(`submit -> active: a bare BullMQ queue and worker on the same Redis, ${settings.bareJobs} jobs`);
    const bare = await bareBullmq(settings.bareJobs);
    const dispatch = stats([...tiny.dispatchMs, ...mobilenet.dispatchMs]);

    log(`resolve (cache miss) at ${settings.artifactCounts.join(' and ')} published artifacts of one model`);
    const resolve = await resolveAtScale(farm, target, settings);
    return { target, tiny, mobilenet, buildsPerMinute, redisPerBuild, dispatch, bare, resolve };
  } finally {
    await farm.stop();
    redis.disconnect();
  }
}

/** The toolchain's work for the same model and options, in this process: no queue, no child, no storage. */
async function directWork(bytes: Buffer, targetKey: string, runs: number): Promise<number[]> {
  const dir = await mkdirTemp();
  try {
    const modelPath = path.join(dir, 'model.onnx');
    await writeFile(modelPath, bytes);
    const model = await readModelInfo(modelPath);
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const spec = makeBuildSpec(model.sha256, parseTargetKey(targetKey), BuildOptionsSchema.parse(optionsFor(i)));
      const workDir = path.join(dir, `work-${i}`);
      await mkdir(workDir);
      const step: StepContext = { buildKey: buildKeyOf(spec), spec, model, modelPath, workDir, signal: new AbortController().signal, progress: () => {}, log: () => {} };
      const started = performance.now();
      const output = path.join(workDir, 'model.optimized.onnx');
      const session = await InferenceSession.create(modelPath, { graphOptimizationLevel: 'all', optimizedModelFilePath: output, logSeverityLevel: 3 });
      await session.release();
      const built: BuildOutput = { primary: { name: 'model.optimized.onnx', path: output, role: 'model' }, extra: [], details: {}, warnings: [] };
      await validateOnnxRuntime(step, built);
      await benchmarkOnnxRuntime(step, built);
      if (i > 0) times.push(performance.now() - started);
    }
    return times;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mkdirTemp(): Promise<string> {
  const dir = path.join(os.tmpdir(), `kiln-bench-direct-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Bytes Redis holds under the prefix: keys kept for good, and keys that expire (log lists). */
async function redisBytes(redis: Redis, prefix: string): Promise<{ persistent: number; expiring: number }> {
  let persistent = 0;
  let expiring = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const [bytes, ttl] = await Promise.all([redis.memory('USAGE', key), redis.pttl(key)]);
      if (ttl > 0) expiring += Number(bytes ?? 0);
      else persistent += Number(bytes ?? 0);
    }
  } while (cursor !== '0');
  return { persistent, expiring };
}

/** Job added -> job active, for a worker that does nothing, one job at a time. */
async function bareBullmq(jobs: number): Promise<Stats> {
  const prefix = `kb-bare-${process.pid}`;
  const connection = { url: REDIS_URL };
  const queue = new Queue('bare', { prefix, connection });
  const latencies: number[] = [];
  let resolveActive: ((at: number) => void) | null = null;
  const worker = new Worker('bare', async () => resolveActive?.(performance.now()), { prefix, connection });
  try {
    await worker.waitUntilReady();
    for (let i = 0; i < jobs + 20; i++) {
      const active = new Promise<number>((resolve) => (resolveActive = resolve));
      const started = performance.now();
      await queue.add('noop', { i }, { removeOnComplete: true });
      const at = await active;
      if (i >= 20) latencies.push(at - started);
    }
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await deletePrefix(prefix);
  }
  return stats(latencies);
}

/** Indexes synthetic artifacts (distinct options, four targets) for one model and times resolve's cache misses. */
async function resolveAtScale(farm: TestFarm, targetKey: string, settings: BuildSettings) {
  const ctx = farm.api.ctx;
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const res = await farm.request('POST', '/v1/models?name=bench-history', { role: 'builder', body: tinyConv({ seed: 11 }), headers: { 'content-type': 'application/octet-stream' } });
  const modelId = (await res.json()).sha256 as string;
  const target = parseTargetKey(targetKey);
  if (target.toolchain !== 'onnxruntime') throw new Error(`Expected a CPU target but received ${targetKey}`);
  // Three targets of the model, as a farm of mixed CPUs would build (the ISA only names the slot here).
  const targets = target.arch === 'x86_64' ? (['baseline', 'avx2', 'avx512'] as const).map((isa) => ({ ...target, isa }) as typeof target) : [target];
  const handler = new ResolveHandler(ctx, new TokenTable([{ token: TOKENS.reader, role: 'reader' }]), undefined, 0);
  const authorization = `Bearer ${TOKENS.reader}`;
  const search = `model=${modelId}&target=${encodeURIComponent(targetKey)}`;
  const results: { artifacts: number; latencyMs: Stats }[] = [];
  let indexed = 0;
  for (const count of settings.artifactCounts) {
    for (; indexed < count; indexed++) {
      const t = targets[indexed % targets.length];
      const spec = makeBuildSpec(modelId, t, BuildOptionsSchema.parse(optionsFor(indexed)));
      const buildKey = buildKeyOf(spec);
      const manifest: Manifest = {
        schema: 1,
        buildKey,
        spec,
        primary: 'model.optimized.onnx',
        files: [{ name: 'model.optimized.onnx', role: 'model', sha256: sha(buildKey), size: 1000 }, { name: 'report.json', role: 'report', sha256: sha(`r${buildKey}`), size: 100 }, { name: 'build.log', role: 'log', sha256: sha(`l${buildKey}`), size: 100 }],
        worker: { id: 'bench', host: os.hostname(), toolchains: { onnxruntime: target.ort }, hardware: {} },
        validation: 'pass',
        publishedAt: new Date(Date.UTC(2026, 0, 1) + indexed * 1000).toISOString(),
        buildSeconds: 1,
      };
      await ctx.artifacts.add(manifest);
    }
    const latencies: number[] = [];
    for (let i = 0; i < settings.resolveCalls + 20; i++) {
      const started = performance.now();
      const answer = await handler.handle(search, authorization);
      const elapsed = performance.now() - started;
      if (answer.status !== 200) throw new Error(`Expected resolve to answer 200 but received ${answer.status}: ${answer.body.toString('utf8')}`);
      if (i >= 20) latencies.push(elapsed);
    }
    results.push({ artifacts: count, latencyMs: stats(latencies) });
  }
  return results;
}
