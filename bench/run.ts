/**
 * `npm run bench`: the serving side of the farm, measured against its baselines in one run on this
 * machine (Kiln issue 2's targets):
 *   1. resolve latency at a fixed 2,000 requests/s and the highest rate it sustains, next to a
 *      bare node:http server answering the same JSON bytes;
 *   2. a 1 GiB artifact download through the API against reading the same file from disk;
 *   3. the API's peak RSS during a 1 GiB upload and a 1 GiB download;
 *   4. a resubmission of a published build;
 *   5. a sweep's overhead: one sweep of N points against N single builds submitted one after
 *      another (Kiln issue 12; `npm run bench -- --only=sweep` runs this part alone and only prints).
 * The API, the bare server and the load generator each run in their own process. Everything the
 * run makes (temp files, a Redis prefix, processes) is removed at the end, pass or fail.
 * Prints a table, writes docs/bench/latest.json and docs/bench/README.md, and exits 1 when a
 * target is missed (2 when the run could not finish).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { readModelInfo } from '../src/core/onnx';
import { connectRedis } from '../src/state/redis';
import { createStore } from '../src/storage/create-store';
import { localTargetKey } from '../src/worker/toolchains/onnxruntime/detect';
import { deletePrefix, REDIS_URL, TOKENS } from '../test/helpers/farm';
import { startChild } from './lib/child';
import { CpuMeter } from './lib/cpu-meter';
import { Cleanup, withTimeout } from './lib/cleanup';
import { writeBigOnnx } from '../test/models/big-onnx';
import { closeAgent, expectJson, request } from './lib/http';
import { measureResolve, type ResolveSettings } from './lib/measure-resolve';
import { measureBuilds, type BuildSettings } from './lib/measure-builds';
import { measureReads, type ReadSettings } from './lib/measure-reads';
import { measureResubmit } from './lib/measure-resubmit';
import { measureSweep, type SweepSettings } from './lib/measure-sweep';
import { measureUploadThroughput, type UploadThroughputSettings } from './lib/measure-upload-throughput';
import { dropPageCache, measureDownload, measureUpload } from './lib/measure-transfer';
import { publishCpuArtifact } from './lib/publish-artifact';
import { formatTable, machine, mb, MB, ms, writeResults, type Row } from './lib/report';
import { RssSampler } from './lib/rss-sampler';

const GiB = 1024 ** 3;
const MINUTE = 60_000;

/** What is measured and against what. */
const SETTINGS = {
  fileBytes: 1 * GiB,
  resolve: {
    rate: 2000,
    pacedSeconds: 10,
    pacedWarmupSeconds: 2,
    connections: 32,
    maxSeconds: 8,
    maxWarmupSeconds: 2,
    attempts: 3,
    quietCores: 0.15,
  } satisfies ResolveSettings,
  downloadRuns: 5,
  resubmit: { warmup: 30, measured: 300 },
  sweep: {
    sweep: { 'onnxruntime.graphOptimizationLevel': ['basic', 'extended', 'all'], 'onnxruntime.intraOpNumThreads': [1, 2] },
    benchmark: { iterations: 20, warmup: 3, maxBatch: 4 },
  } satisfies SweepSettings,
  uploadThroughput: { mib: 256, rounds: 5 } satisfies UploadThroughputSettings,
  builds: { tinyBuilds: 15, mobilenetBuilds: 2, throughputBuilds: 30, bareJobs: 200, resolveCalls: 300, artifactCounts: [1000, 5000] } satisfies BuildSettings,
  reads: { buildCounts: [1000, 50_000], buildsPerModel: 10, requests: 100 } satisfies ReadSettings,
  targets: {
    tinyFarmRatio: 3,
    mobilenetFarmRatio: 1.15,
    dispatchShareOfBare: 2,
    redisBytesPerBuild: 4096,
    resolveGrowth: 1.5,
    uploadShareOfHash: 0.8,
    readGrowth: 1.5,
    resolveP99Ms: 5, resolveShareOfBare: 0.5, downloadShareOfDisk: 0.7, peakRssBytes: 200 * MB, resubmitP50Ms: 10 },
};

const METHOD = `- Processes: the Kiln API (\`startApi\`, filesystem store, Redis under a fresh key prefix), the bare
  \`node:http\` server and the load generator each run in their own Node process, from source through
  tsx's CommonJS hook (\`--require tsx/cjs\`); the bench process drives uploads, downloads and
  resubmissions and samples the API's memory. Redis runs on the same machine; everything shares its cores.
- Resolve: \`GET /v1/resolve?model=<name>&target=<local CPU target>\` with a reader bearer token, for a
  model that has a published CPU artifact set. The bare server answers every request with the API's
  exact response bytes and content type. Fixed rate: an open-loop generator starts ${SETTINGS.resolve.rate}
  requests/s on keep-alive connections (a new connection when none is idle), ${SETTINGS.resolve.pacedWarmupSeconds} s of
  warm-up then ${SETTINGS.resolve.pacedSeconds} s measured; latency runs from the moment a request is started to the end of
  its response. (autocannon's \`overallRate\` was not used for this: it sends each connection's quota for
  the second back to back at the start of the second, i.e. bursts, not a rate.) Highest rate: autocannon,
  ${SETTINGS.resolve.connections} connections, a ${SETTINGS.resolve.maxWarmupSeconds} s warm-up run, then ${SETTINGS.resolve.maxSeconds} s measured; requests/s over the measured
  run, and the server's CPU time (/proc/<pid>/stat) per request. Any non-2xx answer fails the run.
- Shared machine: the CPU used by processes other than the bench's own (its process tree and Redis) is
  measured during every run. When it exceeds ${SETTINGS.resolve.quietCores} cores during the resolve runs, they are all run again
  (up to ${SETTINGS.resolve.attempts} attempts) and the quietest attempt is reported; \`latest.json\` keeps every attempt.
- Download: the API streams the 1 GiB primary file of the artifact set (\`GET /v1/artifacts/<key>/<file>\`)
  to \`curl -o /dev/null\`, and the disk read is \`dd bs=1M\` of the same stored file to /dev/null, so both
  sides are read by equally cheap native programs (without curl and dd: a node:http client and
  \`fs.createReadStream\` into the same counting sink). ${SETTINGS.downloadRuns} back-to-back
  pairs (disk read, download): medians of each, and the median of the per-pair ratios as the download's
  share (the machine's speed drifts; a pair sees one speed). The target is judged with the page cache
  dropped before every read (both sides read the disk; needs root); the same pairs with a warm page cache
  (both sides read memory) are reported beside it. MB = 10^6 bytes.
- Memory: the API's VmRSS from /proc/<pid>/status every 50 ms, and VmHWM (the kernel's peak) after
  resetting it through /proc/<pid>/clear_refs at the start of each phase; the peak is the larger. The
  upload is a real ONNX model (one 1 GiB float initializer, written to disk in streamed chunks) sent as a
  raw streamed body to \`POST /v1/models\`; the API hashes it into a temp file, parses it and stores it.
  The RSS includes tsx's CommonJS hook (about 15 MB more than the compiled API).
- Resubmission: \`POST /v1/builds\` for the published build key, ${SETTINGS.resubmit.measured} sequential requests after
  ${SETTINGS.resubmit.warmup} warm-up ones, each checked to answer 200 with \`cached: true\`; timed in the client.
- Builds (issue 11): an API and one CPU worker in the bench process (test/helpers/farm.ts: real Redis,
  filesystem store, ONNX Runtime). A build's farm time is its record's submit -> finished time; one
  warm-up build per model is not counted. The direct work is the same model and options done in the
  bench process: ORT's optimiser at level 'all' writing the optimised model, then the toolchain's
  validation and benchmark (default options; each build differs only by one more benchmark run, to get
  distinct build keys). Builds per minute: ${SETTINGS.builds.throughputBuilds} tiny builds submitted at once, first submit to last finish.
  Submit -> active: the build record's createdAt (the record made, after the request's checks and its
  journal, just before the job is enqueued) -> startedAt (the worker's processor called with the job) of
  the sequential builds, ISO timestamps at ms resolution, against a bare BullMQ queue and a no-op worker
  on the same Redis (job added -> processor called, performance.now(), ${SETTINGS.builds.bareJobs} jobs). A farm
  build's finishedAt is set before the worker removes its work dir, which builds per minute still include.
  Redis bytes per build: \`MEMORY USAGE\` of every key under the farm's prefix before and after the
  throughput builds, split into keys kept for good and keys with an expiry (log lists).
  Resolve at scale: ${SETTINGS.builds.artifactCounts.join(' and ')} artifacts of one model indexed through \`ArtifactIndex.add\`
  (three CPU targets, distinct options), then ${SETTINGS.builds.resolveCalls} cache-missing calls of the resolve handler in-process.
- Upload throughput (issue 11): a ${SETTINGS.uploadThroughput.mib} MiB ONNX model POSTed to \`/v1/models\` of an API in its own process
  (filesystem store) by curl (\`-T\`, streamed; a node:http client where there is no curl), against \`cat FILE | sha256sum\`
  of the same file, alternately, ${SETTINGS.uploadThroughput.rounds} rounds, medians; each round deletes the model so every upload stores
  it (hashed on the way, parsed, fsynced and renamed into the store, registered in Redis).
- Reads as history grows: an API in the bench process (Redis under a fresh prefix) with
  ${SETTINGS.reads.buildCounts.map((n) => n.toLocaleString('en-US')).join(', then ')} recorded builds (one model per ${SETTINGS.reads.buildsPerModel} builds, eight targets; 80% succeeded,
  10% failed, 3% cancelled, 5% queued, 2% active; finished across the last 23 hours). Builds are
  recorded through \`BuildRecords.ensure\` and \`update\` (every index and the hourly counters are the
  real ones); models are written as \`ModelRegistry.register\` leaves them in Redis, without their
  storage copies, which no timed read touches. Timed over real HTTP, ${SETTINGS.reads.requests} sequential requests each
  after 30 warm-up ones: \`GET /v1/builds\` and \`GET /v1/models\` (first page, default limit, admin bearer
  token) and the dashboard overview (\`GET /dashboard\`, the whole page, with a signed-in session cookie).
  Growth: the largest count's p50 over the smallest's.
- Sweep overhead: an in-process farm (API, Redis, one CPU worker) builds a generated ResNet-18 (width 16,
  64x64 inputs) at every point of \`onnxruntime.graphOptimizationLevel\` x \`onnxruntime.intraOpNumThreads\`
  (3 x 2): first as single requests submitted one after another (each waited for), then as one sweep
  request, timed from the first submit to the last build's end. The two runs build two models of equal
  size with different weights, so neither reuses the other's artifacts. The sweep must not take longer.
- The artifact set is published through \`publishArtifactSet\` + \`ArtifactIndex.add\` (files, then the
  manifest, then the index), as a worker would, without running a build of the 1 GiB model.`;

interface Outcome {
  rows: Row[];
  details: Record<string, unknown>;
}

async function runSweep(outcome: Outcome): Promise<void> {
  const log = (line: string) => console.log(`[bench] ${line}`);
  log('sweep overhead: a sweep against the same points built one request at a time (a few minutes)');
  const sweep = await measureSweep(SETTINGS.sweep, log);
  outcome.details.sweep = sweep;
  outcome.rows.push(
    { measurement: `${sweep.points} single ResNet-18 builds submitted one after another`, value: `${sweep.singlesSeconds.toFixed(1)} s`, target: '', pass: null },
    {
      measurement: `one sweep of the same ${sweep.points} points (${sweep.sweepBuilds} builds: thread counts share an artifact)`,
      value: `${sweep.sweepSeconds.toFixed(1)} s`,
      target: '<= the single builds',
      pass: sweep.sweepSeconds <= sweep.singlesSeconds,
    },
  );
}

async function runBuildBench(outcome: Outcome): Promise<void> {
  const log = (line: string) => console.log(`[bench] ${line}`);
  const r = await measureBuilds(SETTINGS.builds, log);
  outcome.details.builds = r;
  const t = SETTINGS.targets;
  const x = (n: number) => `${n.toFixed(2)}x`;
  const [small, large] = r.resolve;
  const growth = large.latencyMs.median / small.latencyMs.median;
  const dispatchShare = r.dispatch.median / r.bare.median;
  outcome.rows.push(
    { measurement: `tiny model build through the farm: ${ms(r.tiny.farm.median)} p50 against ${ms(r.tiny.direct.median)} of direct toolchain work`, value: x(r.tiny.ratio), target: `<= ${t.tinyFarmRatio}x`, pass: r.tiny.ratio <= t.tinyFarmRatio },
    { measurement: `MobileNetV2 build through the farm: ${ms(r.mobilenet.farm.median)} p50 against ${ms(r.mobilenet.direct.median)} direct`, value: x(r.mobilenet.ratio), target: `<= ${t.mobilenetFarmRatio}x`, pass: r.mobilenet.ratio <= t.mobilenetFarmRatio },
    { measurement: 'tiny builds per minute, one worker', value: `${Math.round(r.buildsPerMinute)}/min`, target: '', pass: null },
    {
      measurement: `submit -> active p50 ${ms(r.dispatch.median)} (p99 ${ms(r.dispatch.p99)}); bare BullMQ p50 ${ms(r.bare.median)} (p99 ${ms(r.bare.p99)})`,
      value: x(dispatchShare),
      target: `<= ${t.dispatchShareOfBare}x`,
      pass: dispatchShare <= t.dispatchShareOfBare,
    },
    {
      measurement: `Redis bytes per finished build (plus ${(r.redisPerBuild.expiring / 1024).toFixed(1)} KB of log list that expires)`,
      value: `${(r.redisPerBuild.persistent / 1024).toFixed(1)} KB`,
      target: `<= ${t.redisBytesPerBuild / 1024} KB`,
      pass: r.redisPerBuild.persistent <= t.redisBytesPerBuild,
    },
    { measurement: `resolve (cache miss), model with ${small.artifacts.toLocaleString('en-US')} artifacts, p50 (p99 ${ms(small.latencyMs.p99)})`, value: ms(small.latencyMs.median), target: '', pass: null },
    {
      measurement: `resolve (cache miss), model with ${large.artifacts.toLocaleString('en-US')} artifacts, p50 ${ms(large.latencyMs.median)} (p99 ${ms(large.latencyMs.p99)}), against ${small.artifacts.toLocaleString('en-US')}`,
      value: x(growth),
      target: `<= ${t.resolveGrowth}x`,
      pass: growth <= t.resolveGrowth,
    },
  );
  await runReadBench(outcome);
}

/** GET /v1/builds, GET /v1/models and the dashboard overview at 1,000 and 50,000 recorded builds. */
async function runReadBench(outcome: Outcome): Promise<void> {
  const log = (line: string) => console.log(`[bench] ${line}`);
  const reads = await measureReads(SETTINGS.reads, log);
  outcome.details.reads = reads;
  const [small, large] = [reads[0], reads[reads.length - 1]];
  const n = (count: number) => count.toLocaleString('en-US');
  const endpoints = [
    ['builds1', 'GET /v1/builds (first page)', false],
    ['models1', 'GET /v1/models (first page)', true],
    ['overview', 'dashboard overview (GET /dashboard)', true],
  ] as const;
  for (const [key, name, judged] of endpoints) {
    const growth = large[key].median / small[key].median;
    outcome.rows.push(
      { measurement: `${name} at ${n(small.builds)} builds, p50 (p99 ${ms(small[key].p99)})`, value: ms(small[key].median), target: '', pass: null },
      {
        measurement: `${name} at ${n(large.builds)} builds (${n(large.models)} models), p50 ${ms(large[key].median)} (p99 ${ms(large[key].p99)}), against ${n(small.builds)}`,
        value: `${growth.toFixed(2)}x`,
        target: judged ? `<= ${SETTINGS.targets.readGrowth}x of the ${n(small.builds)} figure` : '',
        pass: judged ? growth <= SETTINGS.targets.readGrowth : null,
      },
    );
  }
}

async function runUploadBench(outcome: Outcome): Promise<void> {
  const { mib, rounds } = SETTINGS.uploadThroughput;
  console.log(`[bench] upload throughput: ${rounds} uploads of a ${mib} MiB model against cat+sha256sum of the same file`);
  const r = await measureUploadThroughput(SETTINGS.uploadThroughput);
  outcome.details.uploadThroughput = r;
  const target = SETTINGS.targets.uploadShareOfHash;
  outcome.rows.push({
    measurement: `upload of a ${mib} MiB model (${r.client}) ${Math.round(r.upload)} MiB/s against cat+sha256sum ${Math.round(r.catSha256sum)} MiB/s`,
    value: `${(r.share * 100).toFixed(1)}%`,
    target: `>= ${target * 100}%`,
    pass: r.share >= target,
  });
}

async function runBench(cleanup: Cleanup, outcome: Outcome): Promise<void> {
  const { rows, details } = outcome;
  const log = (line: string) => console.log(`[bench] ${line}`);

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-'));
  cleanup.add(`remove ${scratch}`, () => rm(scratch, { recursive: true, force: true }));
  const prefix = `kb${randomBytes(5).toString('hex')}`;
  cleanup.add(`delete the Redis prefix ${prefix}`, () => deletePrefix(prefix));
  const env: Record<string, string> = {
    REDIS_URL,
    KILN_PREFIX: prefix,
    KILN_HOME: path.join(scratch, 'home'),
    KILN_PORT: '0',
    KILN_TOKENS: `reader:${TOKENS.reader},builder:${TOKENS.builder},admin:${TOKENS.admin}`,
    KILN_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // The bench measures the API's own speed at rates far past one token's limit (see README, KILN_RATE_LIMIT_RPS).
    KILN_RATE_LIMIT_RPS: '0',
  };
  const config = loadConfig(env);
  const targetKey = localTargetKey();

  log(`writing a ${mb(SETTINGS.fileBytes)} ONNX model (streamed)`);
  const modelFile = path.join(scratch, 'big.onnx');
  await writeBigOnnx(modelFile, SETTINGS.fileBytes);
  const info = await readModelInfo(modelFile, { sha256: 'not computed here' });
  log(`readModelInfo accepts it: ${info.size} bytes, inputs ${info.inputs.map((i) => i.name).join(',')}`);

  const load = await startChild('load generator', 'load-generator.ts', {});
  cleanup.add('stop the load generator', () => load.stop());
  const api = await startChild('API', 'api-server.ts', { env });
  cleanup.add('stop the API', () => api.stop());
  const apiUrl = String(api.ready.url);
  const sampler = new RssSampler(api.pid);
  sampler.start();
  cleanup.add('stop sampling', async () => sampler.stop());
  const idleRss = sampler.read().rss;
  log(`API pid ${api.pid} at ${apiUrl}, idle RSS ${mb(idleRss)}`);
  const redis = connectRedis(REDIS_URL, 'kiln-bench');
  cleanup.add('close the bench Redis connection', () => redis.quit());
  const meter = new CpuMeter(await localRedisPid(redis));

  log('uploading the model through POST /v1/models');
  const upload = await measureUpload(sampler, api.pid, `${apiUrl}/v1/models?name=bench-big`, TOKENS.builder, modelFile);
  details.upload = upload;
  const modelId = upload.record.sha256;

  log(`publishing a CPU artifact set for ${targetKey}`);
  const store = createStore(config.store);
  cleanup.add('close the bench store', async () => store.close?.());
  await mkdir(path.join(scratch, 'set'));
  const set = await withTimeout(
    publishCpuArtifact({ store, redis, prefix, modelId, targetKey, primaryFile: modelFile, scratchDir: path.join(scratch, 'set') }),
    5 * MINUTE,
    'Publishing the artifact set',
  );
  if (config.store.kind !== 'filesystem') throw new Error('Expected the filesystem store');
  const storedFile = path.join(config.store.dir, ...set.primaryKey.split('/'));
  // The bench's own copy is no longer needed: the stored one is what both sides read.
  await rm(modelFile);

  log('downloading it through GET /v1/artifacts and reading it from disk');
  const primary = set.manifest.files.find((f) => f.name === set.manifest.primary)!;
  const transfer = {
    apiPid: api.pid,
    url: `${apiUrl}/v1/artifacts/${set.buildKey}/${primary.name}`,
    token: TOKENS.reader,
    storedFile,
    size: primary.size,
    sha256: primary.sha256,
    runs: SETTINGS.downloadRuns,
  };
  // The target compares with reading the file from disk: cold page cache on both sides where the
  // bench may drop it (root); otherwise only the warm comparison runs, and the table says so.
  const warm = await measureDownload(sampler, meter, { ...transfer, cache: 'warm' });
  const download = dropPageCache() ? await measureDownload(sampler, meter, { ...transfer, cache: 'cold' }) : warm;
  details.download = download;
  details.downloadWarm = warm;

  const resolvePath = `/v1/resolve?model=bench-big&target=${encodeURIComponent(targetKey)}`;
  const answer = await request(`${apiUrl}${resolvePath}`, { token: TOKENS.reader });
  const resolved = expectJson<{ rung: string; buildKey?: string }>(answer, 200, 'resolve');
  if (resolved.rung !== 'cpu' || resolved.buildKey !== set.buildKey) {
    throw new Error(`Expected resolve to answer the published CPU artifact ${set.buildKey} but received ${answer.body.toString('utf8').slice(0, 200)}`);
  }
  const bare = await startChild('bare server', 'bare-server.ts', {
    bodyBase64: answer.body.toString('base64'),
    contentType: String(answer.headers['content-type']),
  });
  cleanup.add('stop the bare server', () => bare.stop());
  log(`resolve answers ${answer.body.length} bytes; measuring resolve and the bare server (about a minute)`);
  const headers = { Authorization: `Bearer ${TOKENS.reader}` };
  const { chosen, attempts } = await measureResolve(
    load,
    meter,
    [
      { name: 'api', url: `${apiUrl}${resolvePath}`, pid: api.pid },
      { name: 'bare', url: `${String(bare.ready.url)}${resolvePath}`, pid: bare.pid },
    ],
    headers,
    SETTINGS.resolve,
    log,
  );
  details.resolve = { payloadBytes: answer.body.length, chosen: attempts.indexOf(chosen), attempts };
  await bare.stop();

  log('resubmitting the published build');
  const resubmit = await measureResubmit(apiUrl, api.pid, TOKENS.builder, { model: modelId, targets: [targetKey] }, SETTINGS.resubmit);
  details.resubmit = resubmit;
  details.apiIdleRssBytes = idleRss;

  const t = SETTINGS.targets;
  const { api: r, bare: b } = chosen.servers;
  const share = r.max.requestsPerSecond / b.max.requestsPerSecond;
  const dlShare = download.shareMedian;
  const rate = `${SETTINGS.resolve.rate.toLocaleString('en-US')}/s`;
  rows.push(
    { measurement: `resolve p50 at ${rate} (bare server: ${ms(b.paced.latencyMs.median)})`, value: ms(r.paced.latencyMs.median), target: '', pass: null },
    { measurement: `resolve p99 at ${rate} (bare server: ${ms(b.paced.latencyMs.p99)})`, value: ms(r.paced.latencyMs.p99), target: `<= ${t.resolveP99Ms} ms`, pass: r.paced.latencyMs.p99 <= t.resolveP99Ms },
    { measurement: 'resolve highest sustained rate', value: `${Math.round(r.max.requestsPerSecond)}/s`, target: '', pass: null },
    { measurement: 'bare node:http server, same JSON', value: `${Math.round(b.max.requestsPerSecond)}/s`, target: '', pass: null },
    { measurement: 'resolve rate / bare server rate', value: `${(share * 100).toFixed(1)}%`, target: `>= ${t.resolveShareOfBare * 100}%`, pass: share >= t.resolveShareOfBare },
    {
      measurement: `server CPU per request at the highest rate (bare server: ${Math.round(b.max.serverCpuMicrosPerRequest)} µs)`,
      value: `${Math.round(r.max.serverCpuMicrosPerRequest)} µs`,
      target: '',
      pass: null,
    },
    { measurement: `1 GiB read from disk (page cache ${download.cache})`, value: `${Math.round(download.diskMedian)} MB/s`, target: '', pass: null },
    {
      measurement: `1 GiB download through the API, page cache ${download.cache} (read by ${download.reader}; API CPU ${median(download.apiCpuSecondsPerDownload).toFixed(2)} s per download)`,
      value: `${Math.round(download.apiMedian)} MB/s`,
      target: '',
      pass: null,
    },
    { measurement: `download / disk read, page cache ${download.cache} (median of back-to-back pairs)`, value: `${(dlShare * 100).toFixed(1)}%`, target: `>= ${t.downloadShareOfDisk * 100}%`, pass: dlShare >= t.downloadShareOfDisk },
    ...(download === warm
      ? []
      : [
          {
            measurement: `page cache warm (from memory): read ${Math.round(warm.diskMedian)} MB/s, download ${Math.round(warm.apiMedian)} MB/s`,
            value: `${(warm.shareMedian * 100).toFixed(1)}%`,
            target: '',
            pass: null,
          },
        ]),
    { measurement: `API peak RSS, 1 GiB upload (${Math.round(upload.mbPerSecond)} MB/s; idle ${mb(idleRss)})`, value: mb(upload.memory.peakBytes), target: `< ${mb(t.peakRssBytes)}`, pass: upload.memory.peakBytes < t.peakRssBytes },
    { measurement: 'API peak RSS, 1 GiB downloads', value: mb(download.memory.peakBytes), target: `< ${mb(t.peakRssBytes)}`, pass: download.memory.peakBytes < t.peakRssBytes },
    { measurement: `resubmission of a published build, p50 (p99 ${ms(resubmit.latencyMs.p99)})`, value: ms(resubmit.latencyMs.median), target: `< ${t.resubmitP50Ms} ms`, pass: resubmit.latencyMs.median < t.resubmitP50Ms },
    {
      measurement: 'other processes\' CPU meanwhile (resolve runs / downloads)',
      value: `${chosen.otherCores.toFixed(2)} / ${download.cpu.otherCores.toFixed(2)} cores`,
      target: '',
      pass: null,
    },
  );
}

/** The pid of the Redis the bench uses when it runs on this machine (its CPU is the bench's too). */
async function localRedisPid(redis: Redis): Promise<number[]> {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  return Number.isInteger(pid) && existsSync(`/proc/${pid}`) && ['127.0.0.1', 'localhost', '::1'].includes(redis.options.host ?? '') ? [pid] : [];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  cleanup.onSignals();
  const started = performance.now();
  const outcome: Outcome = { rows: [], details: {} };
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (only !== undefined && only !== 'sweep') throw new Error(`Expected --only=sweep but received --only=${only}`);
  let error: unknown;
  try {
    if (only === 'sweep') {
      await runSweep(outcome);
    } else {
      // `npm run bench -- --builds-only`: only the per-build measurements (about 10 minutes less), into docs/bench/builds/.
      await runBuildBench(outcome);
      await runUploadBench(outcome);
      if (!process.argv.includes('--builds-only')) await runBench(cleanup, outcome);
      await runSweep(outcome);
    }
  } catch (err) {
    error = err;
  } finally {
    await cleanup.run();
    closeAgent();
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  if (error) {
    console.error(`\n[bench] could not finish after ${seconds} s: ${error instanceof Error ? error.stack ?? error.message : error}`);
    if (outcome.rows.length) console.log(`\n${formatTable(outcome.rows)}`);
    console.error('[bench] docs/bench was left as it was (an unfinished run writes no results)');
    process.exit(2);
  }
  const m = machine();
  console.log(`\n${formatTable(outcome.rows)}\n`);
  console.log(`${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.date}; ${seconds} s`);
  if (only) {
    // A part alone is not the whole run: docs/bench keeps the last full one.
    console.log(JSON.stringify(outcome.details));
    process.exit(outcome.rows.some((r) => r.pass === false) ? 1 : 0);
  }
  const docs = path.join(__dirname, '..', 'docs', 'bench');
  // --builds-only writes its own results beside the whole run's, which stay as they were.
  const dir = process.argv.includes('--builds-only') ? path.join(docs, 'builds') : docs;
  await writeResults(dir, m, outcome.rows, { seconds, settings: SETTINGS, ...outcome.details }, METHOD);
  console.log(`results written to ${path.relative(process.cwd(), dir)}/latest.json and README.md`);
  process.exit(outcome.rows.some((r) => r.pass === false) ? 1 : 0);
}

void main();
