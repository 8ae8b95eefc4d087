/**
 * `npm run chaos [-- --quick]`: fault injection on a real farm, then a table (docs/chaos.md).
 *
 * Starts its own Redis (redis-server, AOF on, a free port), a real S3-protocol server (s3rver), the
 * API (in this process) and CPU workers (child processes, so they can be SIGKILLed), then injects:
 * worker SIGKILL x3 on one build; Redis down 45 s with AOF; Redis restarted without its data; the
 * store down 60 s while builds publish. `--quick` scales the outages down (8 s and 10 s).
 * Every accepted build must end succeeded with no person acting; each published set is verified
 * file by file against its manifest; leaked bytes are files under builds/ no manifest lists plus
 * work directories the workers left behind.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collectGarbage } from '../../src/cleanup/collect-garbage';
import { sweepLocalTemp } from '../../src/cleanup/work-dirs';
import { startPrivateRedis, type PrivateRedis } from '../../src/local-redis';
import { readManifest } from '../../src/storage/publish';
import { artifactKey } from '../../src/storage/layout';
import { tinyConv } from '../../test/models';
import { startS3Server } from '../../test/helpers/s3-server';
import { Farm, say, sleep } from './farm';

const QUICK = process.argv.includes('--quick');
const REDIS_DOWN_S = QUICK ? 8 : 45;
const STORAGE_DOWN_S = QUICK ? 10 : 60;

interface Row {
  fault: string;
  accepted: number;
  succeeded: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  recovered: boolean;
  seconds: number;
  note: string;
}


/** Every file of the set is what its manifest says (sha256 and size); false if any is not. */
async function intact(farm: Farm, key: string): Promise<boolean> {
  const manifest = await readManifest(farm.api.ctx.store, key);
  if (!manifest) return false;
  for (const file of manifest.files) {
    const { body } = await farm.api.ctx.store.get(artifactKey(key, file));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    if (hash.digest('hex') !== file.sha256 || size !== file.size) return false;
  }
  return true;
}

async function scenario(farm: Farm, fault: string, run: () => Promise<{ keys: string[]; note?: string }>): Promise<Row> {
  say(`${fault}: starting`);
  const started = Date.now();
  const { keys, note = '' } = await run();
  const accepted = keys.length;
  // Generous: the builds of one scenario run two at a time on a shared two-core machine.
  const states = await farm.settle(keys, (QUICK ? 300 : 600) * 1000);
  let corrupt = 0;
  let duplicated = 0;
  for (const [key, state] of states) {
    if (state !== 'succeeded') continue;
    if (!(await intact(farm, key))) corrupt++;
    let manifests = 0;
    for await (const o of farm.api.ctx.store.list(`builds/${key}/`)) if (o.key.endsWith('/manifest.json')) manifests++;
    if (manifests > 1) duplicated++;
  }
  const succeeded = [...states.values()].filter((s) => s === 'succeeded').length;
  const lost = [...states.values()].filter((s) => s === 'missing' || s === 'queued' || s === 'active').length;
  const unfinished = [...states].filter(([, s]) => s !== 'succeeded').map(([k, s]) => `${k.slice(0, 12)} ${s}`);
  const row = { fault, accepted, succeeded, lost, duplicated, corrupt, recovered: succeeded === accepted, seconds: Math.round((Date.now() - started) / 1000), note: [note, ...unfinished].filter(Boolean).join('; ') };
  say(`${fault}: ${JSON.stringify(row)}`);
  return row;
}

/** Waits `ms` while the fault lasts, noting whether any worker reported itself paused (what an outage should do). */
async function outage(farm: Farm, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let paused = 0;
  while (Date.now() < end) {
    const workers: { paused?: unknown }[] = (await farm.request('GET', '/v1/workers')).json?.workers ?? [];
    paused = Math.max(paused, workers.filter((w) => w.paused).length);
    await sleep(500);
  }
  return `${paused} worker(s) seen paused during the fault`;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Bytes under builds/ and blobs/ that no manifest lists, the filesystem store's abandoned temp
 * files, and work directories left in the workers' homes.
 */
async function leakedBytes(farm: Farm): Promise<{ store: number; workDirs: number }> {
  const store = farm.api.ctx.store;
  const listed = new Set<string>();
  const objects: { key: string; size: number }[] = [];
  for (const prefix of ['builds/', 'blobs/']) for await (const o of store.list(prefix)) objects.push({ key: o.key, size: o.size });
  for (const key of new Set(objects.filter((o) => o.key.startsWith('builds/')).map((o) => o.key.split('/')[1]))) {
    const manifest = await readManifest(store, key);
    if (manifest) for (const f of manifest.files) listed.add(artifactKey(key, f));
  }
  let stored = objects.filter((o) => !o.key.endsWith('/manifest.json') && !listed.has(o.key)).reduce((n, o) => n + o.size, 0);
  if (farm.storeEnv.KILN_DATA_DIR) stored += await duBytes(path.join(farm.storeEnv.KILN_DATA_DIR, '.tmp'));
  let workDirs = 0;
  for (const workerHome of farm.workerHomes) workDirs += await duBytes(path.join(workerHome, 'tmp'));
  return { store: stored, workDirs };
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await duBytes(full) : (await stat(full)).size;
  }
  return total;
}

async function main(): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'kiln-chaos-'));
  const redisDir = path.join(home, 'redis');
  let redis = await startPrivateRedis({ dir: redisDir, persistent: true });
  const port = Number(new URL(redis.url).port);
  const s3 = await startS3Server('kiln-chaos');
  const farm = new Farm(home, redis, s3.env);
  await farm.start();
  const rows: Row[] = [];
  const leaks: Leaks[] = [];
  try {
    if ((await farm.request('POST', '/v1/models?name=conv', tinyConv())).status >= 300) throw new Error('model upload failed');
    farm.startWorker();
    await waitFor(async () => ((await farm.request('GET', '/v1/workers')).json?.workers ?? []).length > 0, 'a worker');
    const target: string = (await farm.request('GET', '/v1/workers')).json.workers[0].targets[0];
    farm.startWorker();
    let iterations = 2000;

    rows.push(
      await scenario(farm, 'worker SIGKILL x3 on one build', async () => {
        // The longest benchmark the options allow (100,000 runs), so each kill lands mid-build.
        const key = await farm.submit(target, 100_000);
        if (!key) throw new Error('the build to kill was not accepted');
        for (let kill = 0; kill < 3; kill++) {
          // Kill whichever worker holds the build once it is active, then replace it.
          let holder = '';
          await waitFor(async () => {
            const b = await farm.build(key);
            holder = b?.state === 'active' ? b.worker : '';
            return holder !== '' && farm.workers.has(holder);
          }, 'the build to be active');
          await farm.kill(holder);
          farm.startWorker();
          await waitFor(async () => (await farm.build(key))?.state !== 'active' || (await farm.build(key))?.worker !== holder, 'the build to be taken back', 60_000);
        }
        return { keys: [key], note: `attempts ${(await farm.build(key))?.attempts ?? '?'} when the third worker died` };
      }),
    );

    rows.push(
      await scenario(farm, `Redis down ${REDIS_DOWN_S} s, AOF on`, async () => {
        const keys = (await Promise.all([0, 1, 2, 3].map(() => farm.submit(target, iterations++)))).filter((k): k is string => k !== null);
        await redis.stop();
        await sleep(REDIS_DOWN_S * 1000);
        redis = await startPrivateRedis({ dir: redisDir, persistent: true, port });
        return { keys };
      }),
    );

    rows.push(
      await scenario(farm, 'Redis restarted without its data (no AOF)', async () => {
        const keys = (await Promise.all([0, 1, 2, 3, 4, 5].map(() => farm.submit(target, 4000 + iterations++)))).filter((k): k is string => k !== null);
        redis.process.kill('SIGKILL');
        await new Promise((r) => redis.process.once('exit', r));
        await rm(redisDir, { recursive: true, force: true });
        redis = await startPrivateRedis({ dir: redisDir, persistent: true, port });
        return { keys, note: 'restored by the supervisor from the request journal' };
      }),
    );

    rows.push(
      await scenario(farm, `storage down ${STORAGE_DOWN_S} s during publish`, async () => {
        const keys = (await Promise.all([0, 1, 2, 3].map(() => farm.submit(target, iterations++)))).filter((k): k is string => k !== null);
        await waitFor(async () => {
          for (const key of keys) if ((await farm.build(key))?.phase === 'publishing' || (await farm.build(key))?.phase === 'benchmarking') return true;
          return false;
        }, 'a build about to publish');
        await s3.pause();
        const seen = await outage(farm, STORAGE_DOWN_S * 1000);
        await s3.resume();
        return { keys, note: seen };
      }),
    );

    leaks.push(await collectAndMeasure(farm));
    await farm.stop();
    rows.push(...(await storeFaults(home, redis, target, () => iterations++, leaks)));
    printTable(rows, leaks);
  } finally {
    await farm.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await s3.close().catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}

interface Leaks {
  farm: string;
  before: { store: number; workDirs: number };
  freed: number;
  after: { store: number; workDirs: number };
}

/**
 * The garbage collector as a farm runs it (src/cleanup/collect-garbage.ts), with grace 0 and temp
 * age 0: nothing publishes any more, so every file no manifest lists is a leak it must remove. It
 * sweeps the API's temp directory; each worker's (they have their own KILN_HOME here, where a farm's
 * workers on one machine share one) is swept the same way a worker does when it starts.
 */
async function collectAndMeasure(farm: Farm): Promise<Leaks> {
  const before = await leakedBytes(farm);
  const ctx = farm.api.ctx;
  const now = { ...ctx, config: { ...ctx.config, cleanup: { ...ctx.config.cleanup, tempAgeMs: 0 } } };
  const report = await collectGarbage(now, { graceMs: 0 });
  let freed = report.bytesFreed;
  for (const workerHome of farm.workerHomes) freed += (await sweepLocalTemp(ctx, { root: path.join(workerHome, 'tmp'), olderThanMs: 0 })).bytes;
  const after = await leakedBytes(farm);
  say(`${farm.prefix}: leaked before GC ${JSON.stringify(before)}, GC freed ${freed}, after GC ${JSON.stringify(after)}`);
  return { farm: farm.prefix, before, freed, after };
}

/**
 * Disk full and a read-only store, for real: a filesystem-store farm whose store (KILN_DATA_DIR)
 * is a tmpfs, filled with a file (ENOSPC) or remounted read-only (EROFS) while builds benchmark,
 * then given back. Mounting needs root (CAP_SYS_ADMIN); without it the rows say they were skipped.
 */
async function storeFaults(home: string, redis: PrivateRedis, target: string, nextIterations: () => number, leaks: Leaks[]): Promise<Row[]> {
  const mountPoint = path.join(home, 'fs-store');
  await mkdir(mountPoint, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountPoint], { stdio: 'ignore' });
  } catch {
    const skipped = (fault: string): Row => ({ fault, accepted: 0, succeeded: 0, lost: 0, duplicated: 0, corrupt: 0, recovered: false, seconds: 0, note: 'skipped: cannot mount a tmpfs (needs root)' });
    return [skipped('disk full'), skipped('read-only store')];
  }
  const farm = new Farm(home, redis, { KILN_STORE: 'filesystem', KILN_DATA_DIR: mountPoint }, 'chaos-fs');
  const rows: Row[] = [];
  try {
    await farm.start();
    if ((await farm.request('POST', '/v1/models?name=conv', tinyConv())).status >= 300) throw new Error('model upload failed');
    farm.startWorker();
    farm.startWorker();
    await waitFor(async () => ((await farm.request('GET', '/v1/workers')).json?.workers ?? []).length > 1, 'two workers');
    const duringBenchmark = async (keys: string[]) =>
      waitFor(async () => {
        for (const key of keys) if (['benchmarking', 'publishing'].includes((await farm.build(key))?.phase)) return true;
        return false;
      }, 'a build benchmarking');
    const submit = async (n: number) => (await Promise.all(Array.from({ length: n }, () => farm.submit(target, 15_000 + nextIterations())))).filter((k): k is string => k !== null);

    rows.push(
      await scenario(farm, `disk full ${STORAGE_DOWN_S} s (store on a full tmpfs)`, async () => {
        const keys = await submit(3);
        await duringBenchmark(keys);
        const filler = fillDisk(mountPoint);
        // Held until a worker has met it (pauses), then for the fault's length.
        await waitFor(async () => ((await farm.request('GET', '/v1/workers')).json?.workers ?? []).some((w: { paused?: unknown }) => w.paused), 'a worker to meet the full disk', 180_000);
        const seen = await outage(farm, STORAGE_DOWN_S * 1000);
        await rm(filler);
        return { keys, note: `ENOSPC; ${seen}` };
      }),
    );
    rows.push(
      await scenario(farm, `read-only store ${STORAGE_DOWN_S} s (tmpfs remounted ro)`, async () => {
        const keys = await submit(3);
        await duringBenchmark(keys);
        execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
        await waitFor(async () => ((await farm.request('GET', '/v1/workers')).json?.workers ?? []).some((w: { paused?: unknown }) => w.paused), 'a worker to meet the read-only store', 180_000);
        const seen = await outage(farm, STORAGE_DOWN_S * 1000);
        execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
        return { keys, note: `EROFS; ${seen}` };
      }),
    );
    leaks.push(await collectAndMeasure(farm));
  } finally {
    await farm.stop().catch(() => undefined);
    execFileSync('umount', ['-l', mountPoint]);
  }
  return rows;
}

/** Writes zeros until the filesystem is full (ENOSPC); returns the file, to delete for space. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

function printTable(rows: Row[], leaks: Leaks[]): void {
  const header = ['fault', 'accepted', 'succeeded', 'lost', 'duplicated', 'corrupt', 'recovered without a person', 'seconds', 'note'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.fault} | ${r.accepted} | ${r.succeeded} | ${r.lost} | ${r.duplicated} | ${r.corrupt} | ${r.recovered ? 'yes' : 'no'} | ${r.seconds} | ${r.note} |`),
  ];
  const leakLines = leaks.map(
    (l) => `leaked bytes (${l.farm}): before GC ${l.before.store} in the store + ${l.before.workDirs} in work directories; GC freed ${l.freed}; after GC ${l.after.store} + ${l.after.workDirs}`,
  );
  process.stdout.write(`${lines.join('\n')}\n\n${leakLines.join('\n')}\nmode: ${QUICK ? 'quick (--quick: outages scaled down)' : 'real durations'}\n`);
}

main().catch((err) => {
  say(`failed: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
