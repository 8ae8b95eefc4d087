/**
 * `options.queueTimeoutSeconds`: a queued build that has waited longer than this fails, and its
 * error says why it waited (src/api/waiting.ts), so a build for a target nobody serves ends instead
 * of waiting forever (issue 10 item 6, docs/recovery.md). The supervisor (src/api/reconciler.ts)
 * runs this on each pass, so the expiry lands within one KILN_RECONCILE_MS of the deadline.
 *
 * The clock starts when the record last changed while queued (`updatedAt`): at submit, at a retry,
 * or when a worker handed it back during an outage, so a build queued again gets its full wait.
 * A job a worker took meanwhile is not failed: BullMQ refuses to remove a job whose lock a worker
 * holds, and the build runs.
 */
import type { FarmContext } from '../context';
import { publishEvent } from '../state/build-events';
import type { BuildRecord } from '../state/build-records';
import { waitingFor } from './waiting';

/** How many queued builds one pass looks at; the next pass sees the rest. */
const PER_PASS = 500;

/** The error of a build that waited past its queue timeout. */
export function queueTimeoutError(seconds: number, why: string): string {
  return `Waited more than ${seconds} s in the queue (options.queueTimeoutSeconds) and expired: ${why}`;
}

/** Fails the queued builds whose wait is past their `queueTimeoutSeconds`; returns how many. */
export async function expireQueuedBuilds(ctx: FarmContext, now = Date.now()): Promise<number> {
  const keys = await ctx.redis.zrange(ctx.keys.buildsByState('queued'), '0', String(PER_PASS - 1));
  const due = (await ctx.builds.getMany(keys)).filter((record) => overdue(record, now));
  if (due.length === 0) return 0;
  const live = await ctx.workers.live();
  let expired = 0;
  for (const record of due) {
    let removed = false;
    try {
      removed = await ctx.queues.removeIfIdle(record.targetKey, record.buildKey);
    } catch {
      removed = false; // a worker holds the job's lock: it is running, not waiting
    }
    if (!removed) continue;
    const why = waitingFor(record, live)?.message ?? 'it was still queued';
    const error = queueTimeoutError(record.spec.options.queueTimeoutSeconds!, why);
    const at = new Date(now).toISOString();
    await ctx.builds.update(record.buildKey, { state: 'failed', finishedAt: at, error });
    await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey: record.buildKey, state: 'failed', error, at });
    ctx.log.warn({ buildKey: record.buildKey }, `build ${record.buildKey.slice(0, 12)} expired in its queue: ${why}`);
    expired++;
  }
  return expired;
}

function overdue(record: BuildRecord, now: number): boolean {
  const seconds = record.spec.options.queueTimeoutSeconds;
  return record.state === 'queued' && seconds !== undefined && now - Date.parse(record.updatedAt) > seconds * 1000;
}
