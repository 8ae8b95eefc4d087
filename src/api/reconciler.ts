/**
 * The supervisor: a loop in the API process that reconciles Redis with storage (the truth) and
 * BullMQ, so that no fault needs a person to clean up after it (docs/recovery.md).
 *
 * - Redis lost its data (restarted without persistence, flushed): the indexes, the build records
 *   of every published set (from its manifest) and every accepted request (from its
 *   journal, requests/<id>.json) are restored; builds of those requests that were never published
 *   are queued again.
 * - A build left queued or active whose BullMQ job is gone is queued again; one whose job BullMQ
 *   failed (a stalled job past its crash budget, seen by no worker) is failed with BullMQ's reason;
 *   one whose set was published after all is marked succeeded.
 *
 * - A queued build past its options.queueTimeoutSeconds fails with the reason it waited
 *   (src/api/queue-expiry.ts).
 *
 * Several API processes may run it: a short Redis lock lets one pass run at a time.
 */
import { randomUUID } from 'node:crypto';
import type { FarmContext } from '../context';
import { makeBuildSpec } from '../core/build-spec';
import { toTarget } from '../core/target';
import { LIVE_JOB_STATES } from '../queue/build-queues';
import { publishEvent } from '../state/build-events';
import type { BuildRecord, BuildState } from '../state/build-records';
import type { RequestRecord } from '../state/requests';
import { REQUESTS_PREFIX } from '../storage/layout';
import { readManifest } from '../storage/publish';
import { readJson } from '../storage/read-json';
import { expireQueuedBuilds } from './queue-expiry';

/** What Redis was given back after it lost its data; kept in Redis and shown by GET /v1/recovery. */
export interface RecoveryReport {
  /** When the supervisor found Redis without its index. */
  detectedAt: string;
  finishedAt?: string;
  /** Published artifact sets whose build records were restored. */
  restoredBuilds: number;
  /** Accepted requests restored from their journal. */
  restoredRequests: number;
  /** Builds of those requests queued again (never published before the loss). */
  requeued: number;
}

export interface PassResult {
  /** Set when this pass found Redis without its data and restored it. */
  recovery?: RecoveryReport;
  requeued: number;
  failed: number;
  succeeded: number;
  /** Queued builds failed for waiting past options.queueTimeoutSeconds. */
  expired: number;
}

/** How many stuck candidates one pass looks at per state; the next pass sees the rest. */
const PER_PASS = 500;

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running: Promise<PassResult> | null = null;
  private stopped = false;

  constructor(private readonly ctx: FarmContext) {}

  /** Runs a pass now, then every KILN_RECONCILE_MS. */
  async start(): Promise<void> {
    await this.pass();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass()
        .catch((err) => this.ctx.log.warn({ err }, `reconcile pass failed: ${err instanceof Error ? err.message : err}`))
        .finally(() => this.schedule());
    }, this.ctx.config.reconcileMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent callers share it. */
  pass(): Promise<PassResult> {
    this.running ??= this.locked().finally(() => (this.running = null));
    return this.running;
  }

  private async locked(): Promise<PassResult> {
    const { redis, keys, config } = this.ctx;
    const token = randomUUID();
    const empty: PassResult = { requeued: 0, failed: 0, succeeded: 0, expired: 0 };
    // Held for at most a few passes' time: a crashed holder does not stop the others for long.
    if ((await redis.set(keys.reconcileLock, token, 'PX', Math.max(60_000, config.reconcileMs * 4), 'NX')) !== 'OK') return empty;
    try {
      const recovery = (await redis.exists(keys.indexBuilt)) ? undefined : await this.restore();
      const stuck = await this.unstick();
      const expired = await expireQueuedBuilds(this.ctx);
      return { ...stuck, expired, ...(recovery ? { recovery, requeued: stuck.requeued + recovery.requeued } : {}) };
    } finally {
      // Released only by its holder.
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, keys.reconcileLock, token);
    }
  }

  /** Redis has no index: a new farm, or one whose Redis lost its data. Everything comes back from storage. */
  private async restore(): Promise<RecoveryReport> {
    const { ctx } = this;
    const report: RecoveryReport = { detectedAt: new Date().toISOString(), restoredBuilds: 0, restoredRequests: 0, requeued: 0 };
    await ctx.redis.set(ctx.keys.recovery, JSON.stringify(report));
    await ctx.models.rebuild();
    for await (const object of ctx.store.list('builds/')) {
      if (!object.key.endsWith('/manifest.json')) continue;
      const manifest = await readManifest(ctx.store, object.key.split('/')[1]);
      if (!manifest) continue;
      await ctx.artifacts.add(manifest);
      // The report stays in the artifact set (report.json), where readers take it from (src/api/build-reports.ts).
      const restored = await this.restoreRecord(manifest.spec, manifest.buildKey, 'succeeded', {
        percent: 100,
        finishedAt: manifest.publishedAt,
        verdict: manifest.validation,
        worker: manifest.worker.id,
      });
      if (restored) report.restoredBuilds++;
    }
    for await (const object of ctx.store.list(REQUESTS_PREFIX)) {
      if (!object.key.endsWith('.json')) continue;
      const request = await readJson<RequestRecord>(ctx.store, object.key);
      if (!request) continue;
      if (await ctx.requests.restore(request)) report.restoredRequests++;
      report.requeued += await this.restoreRequestBuilds(request);
    }
    // Marks the index as built: the next pass does not restore again.
    await ctx.redis.set(ctx.keys.indexBuilt, new Date().toISOString());
    report.finishedAt = new Date().toISOString();
    // A new farm's empty Redis is no loss: only a restoration that found something is reported.
    if (!report.restoredBuilds && !report.restoredRequests) await ctx.redis.del(ctx.keys.recovery);
    else {
      await ctx.redis.set(ctx.keys.recovery, JSON.stringify(report));
      ctx.log.warn({ recovery: report }, `Redis had lost its data: restored ${report.restoredBuilds} published builds and ${report.restoredRequests} requests from storage, queued ${report.requeued} builds again`);
    }
    return report;
  }

  /** The builds of a journaled request that Redis no longer knows: published ones were restored above; the rest are queued again. */
  private async restoreRequestBuilds(request: RequestRecord): Promise<number> {
    let requeued = 0;
    for (const [target, buildKey] of Object.entries(request.builds)) {
      await this.ctx.builds.addRequest(buildKey, request.id);
      if (await this.ctx.builds.get(buildKey)) continue;
      const spec = makeBuildSpec(request.modelId, toTarget(target), request.options);
      await this.restoreRecord(spec, buildKey, 'queued', { error: `restored from request ${request.id} after Redis lost its record; queued again` });
      await this.ctx.queues.enqueue(spec, buildKey);
      requeued++;
    }
    return requeued;
  }

  private async restoreRecord(spec: BuildRecord['spec'], buildKey: string, state: BuildState, fields: Partial<BuildRecord>): Promise<boolean> {
    const { record, created } = await this.ctx.builds.ensure(spec, buildKey, state);
    if (created || record.state !== state) await this.ctx.builds.update(buildKey, { ...fields, state });
    return created;
  }

  /** Builds queued or active whose job will never run them. */
  private async unstick(): Promise<Omit<PassResult, 'recovery' | 'expired'>> {
    const { ctx } = this;
    const result = { requeued: 0, failed: 0, succeeded: 0 };
    const quietSince = Date.now() - ctx.config.reconcileMs;
    for (const state of ['queued', 'active'] as const) {
      const keys = await ctx.redis.zrange(ctx.keys.buildsByState(state), '0', String(PER_PASS - 1));
      for (const record of await ctx.builds.getMany(keys)) {
        // Recently moved builds are left alone: submit creates a record just before its job.
        if (Date.parse(record.updatedAt) > quietSince) continue;
        const job = await ctx.queues.jobStatus(record.targetKey, record.buildKey);
        if (LIVE_JOB_STATES.has(job.state)) continue;
        const outcome = await this.settle(record, job.state, job.failedReason);
        result[outcome]++;
      }
    }
    return result;
  }

  private async settle(record: BuildRecord, jobState: string, failedReason: string | undefined): Promise<'requeued' | 'failed' | 'succeeded'> {
    const { ctx } = this;
    const now = new Date().toISOString();
    const manifest = await readManifest(ctx.store, record.buildKey);
    let state: BuildState;
    let error: string | undefined;
    if (manifest) {
      await ctx.artifacts.add(manifest);
      state = 'succeeded';
      await ctx.builds.update(record.buildKey, { state, percent: 100, finishedAt: now, verdict: manifest.validation }, ['error', 'cancelRequested']);
    } else if (jobState === 'failed') {
      state = 'failed';
      error = `BullMQ failed its job (${failedReason ?? 'no reason given'}); the supervisor recorded it`;
      await ctx.builds.update(record.buildKey, { state, finishedAt: now, error }, ['cancelRequested']);
    } else {
      state = 'queued';
      error = `its queue job was lost (${jobState === 'missing' ? 'gone from Redis' : `job ${jobState}`}); queued again by the supervisor`;
      await ctx.builds.update(record.buildKey, { state, percent: 0, error }, ['phase']);
      await ctx.queues.enqueue(record.spec, record.buildKey);
    }
    ctx.log.warn({ buildKey: record.buildKey, was: record.state, jobState, now: state }, `stuck build ${record.buildKey.slice(0, 12)} (${record.state}, job ${jobState}): now ${state}`);
    await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey: record.buildKey, state, error, at: now });
    return state === 'queued' ? 'requeued' : state;
  }

}

/** The last restoration after Redis lost its data, if any (unfinished while it runs). */
export async function lastRecovery(ctx: FarmContext): Promise<RecoveryReport | null> {
  const json = await ctx.redis.get(ctx.keys.recovery);
  return json ? (JSON.parse(json) as RecoveryReport) : null;
}
