/**
 * One job at a time across many queues: the way a GPU worker takes work (docs/dispatch.md).
 *
 * A GPU serves several target queues (its CC, its SKU, ampere+, same-cc). One BullMQ Worker per
 * queue, each with concurrency 1, would let every queue hand the worker a job while its GPU is
 * busy with another; those jobs sit held (locked, `active`) by a busy GPU while an idle peer of
 * the same CC finds the queues empty. Here there is one loop: it takes a job from the first queue
 * that has one (starting after the queue it took from last, so no queue starves), runs it to the
 * end, and only then looks again. While it has no job it blocks on the queues' marker keys, which
 * BullMQ adds to whenever a job becomes ready.
 *
 * BullMQ's guarantees are kept because BullMQ does the work: each queue still has a Worker
 * (`autorun: false`) whose moveToActive takes the job under a lock, whose lock manager renews it
 * while the build runs, whose processJob completes/fails/retries/delays the job, and whose
 * stalled-job check takes back the jobs of a dead worker.
 */
import { EventEmitter } from 'node:events';
import { Worker, type Job, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';

const SECOND = 1000;
/**
 * The longest the loop blocks before looking at every queue again. A job delayed for a retry
 * becomes ready without a new marker being pushed for this loop to see, so it is taken at most
 * this late.
 */
const MAX_IDLE_WAIT_SECONDS = 1;

export interface JobSourceOptions {
  /** BullMQ key prefix (`<KILN_PREFIX>:bull`). */
  prefix: string;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

/** A BullMQ Worker that never fetches on its own; the source asks it for one job at a time. */
class QueueHand<D, R> extends Worker<D, R> {
  /** Lock renewal for the jobs processJob tracks; `run()` would start it, but run() is not used. */
  startLockRenewal(): void {
    this.lockManager.start();
  }
}

export interface JobSourceEvents<D, R> {
  /** A job was taken (moved to active under this source's lock). */
  taken: [job: Job<D, R>, queue: string];
  /** The job is completed, failed, delayed or handed back: this source holds nothing now. */
  released: [job: Job<D, R>, queue: string];
  error: [err: Error, queue: string];
  /** BullMQ's 'failed' for a job of these queues, including failures by the stalled-job check. */
  failed: [job: Job<D, R> | undefined, err: Error, queue: string];
}

export class JobSource<D, R> extends EventEmitter<JobSourceEvents<D, R>> {
  private readonly hands: QueueHand<D, R>[];
  private readonly blocking: Redis;
  private readonly markers: string[];
  private next = 0;
  private tokens = 0;
  private loop: Promise<void> | null = null;
  private closing = false;
  /** Set while suspended (an outage): the loop takes nothing until resume(). */
  private suspended: { until: Promise<void>; resume: () => void } | null = null;
  /** The job being processed, if any: never more than one. */
  held: { job: Job<D, R>; queue: string } | null = null;

  constructor(
    connection: Redis,
    readonly queues: string[],
    processor: Processor<D, R>,
    options: JobSourceOptions,
    readonly id: string,
  ) {
    super();
    this.hands = queues.map((name) => {
      const hand = new QueueHand<D, R>(name, processor, {
        connection,
        prefix: options.prefix,
        autorun: false,
        concurrency: 1,
        lockDuration: options.lockDuration,
        stalledInterval: options.stalledInterval,
        maxStalledCount: options.maxStalledCount,
      });
      hand.on('error', (err) => this.emit('error', err, name));
      hand.on('failed', (job, err) => this.emit('failed', job, err, name));
      return hand;
    });
    this.markers = this.hands.map((hand) => hand.keys.marker);
    // BZPOPMIN blocks its connection: it gets one of its own, so closing can cut it short.
    this.blocking = connection.duplicate({ maxRetriesPerRequest: null, lazyConnect: false });
    this.blocking.on('error', () => undefined);
  }

  /** Starts the stalled-job checks and lock renewal of every queue, then the loop. */
  async start(): Promise<void> {
    for (const hand of this.hands) {
      await hand.startStalledCheckTimer();
      hand.startLockRenewal();
    }
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      if (this.suspended) {
        await this.suspended.until;
        continue;
      }
      try {
        if (!(await this.takeOne())) await this.waitForWork();
      } catch (err) {
        if (this.closing) break;
        this.emit('error', err as Error, this.queues[this.next] ?? '');
        // Redis away: look again shortly rather than spin.
        await new Promise((resolve) => setTimeout(resolve, SECOND));
      }
    }
  }

  /** Takes and runs at most one job, looking at the queues in turn; false when all were empty. */
  private async takeOne(): Promise<boolean> {
    for (let i = 0; i < this.hands.length && !this.closing; i++) {
      const index = (this.next + i) % this.hands.length;
      const hand = this.hands[index];
      const token = `${this.id}:${this.tokens++}`;
      const job = await hand.getNextJob(token, { block: false });
      if (!job) continue;
      this.next = (index + 1) % this.hands.length;
      const queue = this.queues[index];
      this.held = { job, queue };
      this.emit('taken', job, queue);
      try {
        // fetchNext false: completing a job must not take the next one in the same call.
        await hand.processJob(job, token, () => false);
      } finally {
        this.held = null;
        this.emit('released', job, queue);
      }
      return true;
    }
    return false;
  }

  /** Blocks until some queue's marker says a job may be ready (or a short while passes). */
  private async waitForWork(): Promise<void> {
    if (this.closing || this.markers.length === 0) {
      if (!this.closing) await new Promise((resolve) => setTimeout(resolve, MAX_IDLE_WAIT_SECONDS * SECOND));
      return;
    }
    await this.blocking.bzpopmin(...this.markers, MAX_IDLE_WAIT_SECONDS).catch((err) => {
      if (!this.closing) throw err;
    });
  }

  /**
   * Takes no job until resume(), and holds none meanwhile: while a dependency is down the worker
   * waits it out (src/worker/outage-pause.ts); its stalled-job checks and lock renewal go on.
   */
  suspend(): void {
    if (this.suspended) return;
    let resume!: () => void;
    const until = new Promise<void>((resolve) => (resume = resolve));
    this.suspended = { until, resume };
  }

  resume(): void {
    const suspended = this.suspended;
    this.suspended = null;
    suspended?.resume();
  }

  /** Stops taking jobs; the held job, if any, is left to its processor to end (see KilnWorker.stop). */
  pause(): void {
    this.closing = true;
    this.resume();
    this.blocking.disconnect();
  }

  /** Waits for the loop (and so the held job) to end, then closes every queue's Worker. */
  async close(): Promise<void> {
    this.pause();
    await this.loop;
    await Promise.all(this.hands.map((hand) => hand.close()));
  }
}
