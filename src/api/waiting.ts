/**
 * Why a queued build waits, in one place, so the API, the CLI, the dashboard and `kiln fetch` all
 * say the same thing (docs/recovery.md): no live worker serves its target; every worker that does
 * is paused by an outage; every one is busy; it is waiting out its retry delay; or a worker is free
 * and takes it in moments.
 */
import type { FarmContext } from '../context';
import type { BuildRecord } from '../state/build-records';
import type { WorkerInfo } from '../state/worker-registry';

export const WAITING_REASONS = ['no-worker', 'workers-paused', 'workers-busy', 'retrying', 'starting'] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];

export interface Waiting {
  reason: WaitingReason;
  message: string;
  /** Live workers serving the build's target. */
  workers: number;
}

/** The reason for one queued build, given the live workers (read once for many builds). */
export function waitingFor(record: Pick<BuildRecord, 'buildKey' | 'targetKey' | 'state' | 'error'>, live: WorkerInfo[]): Waiting | undefined {
  if (record.state !== 'queued') return undefined;
  const target = record.targetKey;
  const serving = live.filter((w) => w.targets.includes(target));
  const workers = serving.length;
  if (workers === 0) {
    return { reason: 'no-worker', workers, message: `No live worker serves ${target}; the build waits in its queue until one does (\`kiln workers\` lists what is served)` };
  }
  const paused = serving.filter((w) => w.paused);
  if (paused.length === workers) {
    const p = paused[0].paused!;
    return {
      reason: 'workers-paused',
      workers,
      message: `Every worker serving ${target} is paused: ${p.dependency} unavailable (${p.reason}) since ${p.since}; the build starts when it is back`,
    };
  }
  if (/retrying/.test(record.error ?? '')) return { reason: 'retrying', workers, message: `Waiting out its retry delay after a failed attempt (${record.error})` };
  const free = serving.filter((w) => !w.paused && !w.currentBuild);
  if (free.length === 0) {
    return { reason: 'workers-busy', workers, message: `All ${workers} worker${workers === 1 ? '' : 's'} serving ${target} are busy; the build starts when one is free` };
  }
  return { reason: 'starting', workers, message: `${free.length} worker${free.length === 1 ? ' is' : 's are'} free for ${target}; it starts in moments` };
}

/** `waiting` for each queued build among `records` (one read of the live workers). */
export async function withWaiting<R extends Pick<BuildRecord, 'buildKey' | 'targetKey' | 'state' | 'error'>>(ctx: FarmContext, records: R[]): Promise<(R & { waiting?: Waiting })[]> {
  if (!records.some((r) => r.state === 'queued')) return records;
  const live = await ctx.workers.live();
  return records.map((r) => {
    const waiting = waitingFor(r, live);
    return waiting ? { ...r, waiting } : r;
  });
}
