/**
 * One BullMQ queue per target key: a worker consumes exactly the queues of the targets it can
 * build. The job id is the build key, so one build key is at most one job, whoever submits it.
 */
import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BuildSpec } from '../core/build-spec';

export interface BuildJobData {
  buildKey: string;
  spec: BuildSpec;
}

export type BuildJob = Job<BuildJobData, BuildJobResult>;

export interface BuildJobResult {
  published: boolean;
}

/** A week, in seconds: BullMQ's `removeOnFail.age` is in seconds (7 days in ms kept them ~19 years). */
const FAILED_JOB_AGE_SECONDS = 7 * 24 * 3600;

/**
 * BullMQ's per-queue event stream feeds QueueEvents listeners, and Kiln has none (build events are
 * its own: src/state/build-events.ts). BullMQ keeps 10,000 by default, ~500 bytes of Redis per
 * build until it is full; the last 100 are enough to look at with redis-cli.
 */
export const BULLMQ_EVENTS_KEPT = 100;

/** Failed jobs kept per target queue for the queue view (docs/performance.md "Redis per build"). */
export const FAILED_JOBS_KEPT = 1000;

/** Job states in which a job will still run (or is running): its build is not stuck. */
export const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** A build's job as BullMQ has it: a BullMQ state, or `missing` when Redis has no such job. */
export interface JobStatus {
  state: string;
  failedReason?: string;
}

export class BuildQueues {
  private readonly queues = new Map<string, Queue<BuildJobData, BuildJobResult>>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly attempts: number,
    private readonly retryDelayMs: number,
  ) {}

  /** BullMQ queue names may not contain ':'; target keys never do (see core/target.ts). */
  queue(targetKey: string): Queue<BuildJobData, BuildJobResult> {
    let queue = this.queues.get(targetKey);
    if (!queue) {
      queue = new Queue<BuildJobData, BuildJobResult>(targetKey, {
        connection: this.connection,
        prefix: `${this.prefix}:bull`,
        streams: { events: { maxLen: BULLMQ_EVENTS_KEPT } },
      });
      this.queues.set(targetKey, queue);
    }
    return queue;
  }

  jobOptions(buildKey: string): JobsOptions {
    return {
      jobId: buildKey,
      attempts: this.attempts,
      // Transient failures (a storage hiccup, a lost worker) retry after 10 s, 20 s, 40 s, ... by default.
      backoff: { type: 'exponential', delay: this.retryDelayMs },
      // Finished jobs are removed: the build record and the artifact set are the history. Failed
      // jobs stay a while for the dashboard's queue view (bull-board), at most a week and at most
      // the newest 1,000 per target, so a bad day of failures does not grow Redis without bound.
      removeOnComplete: true,
      removeOnFail: { age: FAILED_JOB_AGE_SECONDS, count: FAILED_JOBS_KEPT },
    };
  }

  /**
   * Enqueues a build unless its job is already waiting or running. A finished job of the same key
   * (failed, or completed but its artifacts since deleted) is removed first, because BullMQ
   * ignores an add whose job id exists.
   */
  async enqueue(spec: BuildSpec, buildKey: string, lookup: Promise<BuildJob | undefined> = this.findJob(spec.targetKey, buildKey)): Promise<'enqueued' | 'joined'> {
    const queue = this.queue(spec.targetKey);
    const existing = await lookup;
    if (existing) {
      if (LIVE_JOB_STATES.has(await existing.getState())) return 'joined';
      await existing.remove();
    }
    await queue.add('build', { buildKey, spec }, this.jobOptions(buildKey));
    return 'enqueued';
  }

  /**
   * The build's job, if Redis has one. Started by a caller before it enqueues (`enqueue`'s
   * `lookup`), it shares a round trip with whatever the caller sends meanwhile (docs/performance.md).
   */
  findJob(targetKey: string, buildKey: string): Promise<BuildJob | undefined> {
    return this.queue(targetKey).getJob(buildKey);
  }

  /** Removes a job that is not running; returns false when it is active (a worker holds its lock). */
  async removeIfIdle(targetKey: string, buildKey: string): Promise<boolean> {
    const job = await this.queue(targetKey).getJob(buildKey);
    if (!job) return true;
    if ((await job.getState()) === 'active') return false;
    await job.remove();
    return true;
  }

  async jobStatus(targetKey: string, buildKey: string): Promise<JobStatus> {
    const job = await this.queue(targetKey).getJob(buildKey);
    if (!job) return { state: 'missing' };
    const state = await job.getState();
    return { state: state === 'unknown' ? 'missing' : state, ...(job.failedReason ? { failedReason: job.failedReason } : {}) };
  }

  async depth(targetKey: string): Promise<Record<string, number>> {
    return this.queue(targetKey).getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
