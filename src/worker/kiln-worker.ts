/**
 * A worker process: detects what it can build, registers with a heartbeat, and consumes the
 * queues of exactly those targets, one build at a time (a GPU timing kernels must be left alone).
 *
 * Crash safety comes from BullMQ: a job's lock is renewed while the build runs; if the process is
 * SIGKILLed the lock expires, another worker's stalled-job check moves the job back to waiting and
 * builds it again; publishing is manifest-last and put-if-absent, so the set is published once.
 */
import os from 'node:os';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { sweepLocalTemp } from '../cleanup/work-dirs';
import type { KilnConfig } from '../config';
import type { FarmContext } from '../context';
import type { WorkerFacts } from '../core/manifest';
import { targetKey } from '../core/target';
import { ensureSigningKey } from '../signing-key';
import { publishEvent } from '../state/build-events';
import { CpuSampler, pushTelemetry, type TelemetrySample } from '../state/worker-telemetry';
import { pushWorkerMetrics } from '../state/fleet-metrics';
import { connectRedis } from '../state/redis';
import type { Logger } from '../log';
import { OutagePause, type OutageState } from './outage-pause';
import type { WorkerInfo } from '../state/worker-registry';
import { readManifest } from '../storage/publish';
import type { BuildJob, BuildJobData, BuildJobResult } from '../queue/build-queues';
import { JobSource } from '../queue/job-source';
import { BuildMetrics, type BuildOutcome } from './build-metrics';
import { runPipeline } from './pipeline';
import { Signer } from './provenance';
import { registrationOf } from './registration';
import { BuildInputError, type Capabilities, type Toolchain } from './toolchains/toolchain';

type AbortReason = 'cancel' | 'shutdown' | 'timeout';

export interface WorkerOptions {
  toolchains: Toolchain[];
  /** Overrides detection (tests, or pinning a worker to some targets). */
  capabilities?: Capabilities[];
  /** Where the worker logs (Default: its context's logger); every line carries the worker id. */
  logger?: Logger;
  /** Telemetry sent with every heartbeat. (Default: the first toolchain's telemetry(), else the host's CPU) */
  telemetry?: () => Promise<TelemetrySample | null>;
}

export class KilnWorker {
  readonly id: string;
  private readonly logger: Logger;
  private readonly metrics: BuildMetrics;
  /** Where this worker takes its jobs: one at a time across all of its queues (src/queue/job-source.ts). */
  jobs: JobSource<BuildJobData, BuildJobResult> | null = null;
  private readonly subscriber;
  private info!: WorkerInfo;
  private facts!: WorkerFacts;
  private signer!: Signer;
  private toolchainByTarget = new Map<string, Toolchain>();
  private heartbeat?: NodeJS.Timeout;
  private current: { buildKey: string; abort: AbortController; done: Promise<unknown> } | null = null;
  private stopping = false;
  /** Set when stop()'s grace period ran out: a build starting now is handed back at once. */
  private graceOver = false;
  private sampleTelemetry: () => Promise<TelemetrySample | null> = async () => null;
  private readonly outage: OutagePause;

  constructor(
    private readonly config: KilnConfig,
    private readonly ctx: FarmContext,
    private readonly options: WorkerOptions,
  ) {
    this.id = config.workerId ?? `${os.hostname()}-${process.pid}`;
    this.logger = (options.logger ?? ctx.log).child({ workerId: this.id });
    this.metrics = new BuildMetrics(ctx.metrics.registry, this.id);
    this.subscriber = connectRedis(config.redisUrl, `kiln-worker-${this.id}-cancel`);
    this.outage = new OutagePause(ctx.store, () => this.jobs ?? undefined, this.logger, config.heartbeatMs, () => void this.beat().catch(() => undefined));
  }

  get targets(): string[] {
    return [...this.toolchainByTarget.keys()];
  }

  async start(): Promise<void> {
    this.signer = new Signer(ensureSigningKey(this.config), this.ctx.store);
    // Listed at once so GET /v1/keys shows it; with storage down, before the first set it signs.
    void this.signer.ensureListed().catch((err: Error) => this.logger.warn({ err }, `signing key not listed yet: ${err.message}`));
    const capabilities = this.options.capabilities ?? (await Promise.all(this.options.toolchains.map((t) => t.detect())));
    const registration = registrationOf(capabilities);
    const { toolchains, hardware, notes } = registration;
    for (const cap of capabilities) {
      const toolchain = this.options.toolchains.find((t) => t.name === cap.toolchain);
      if (!toolchain || cap.targets.length === 0) {
        const reason = cap.unavailableReason ?? 'no target can be built here';
        if (!toolchain && cap.targets.length > 0) toolchains[cap.toolchain] = `unavailable: ${reason}`;
        this.logger.warn({ toolchain: cap.toolchain, reason }, `${cap.toolchain} serves no target: ${reason}`);
        continue;
      }
      for (const target of cap.targets) this.toolchainByTarget.set(targetKey(target), toolchain);
    }
    this.facts = { id: this.id, host: os.hostname(), toolchains, hardware };
    // A toolchain's hardware reading (a GPU's, even with no target served), else the host's CPU.
    const reporting = this.options.toolchains.find((t) => t.telemetry);
    const cpu = new CpuSampler();
    this.sampleTelemetry = this.options.telemetry ?? (reporting?.telemetry ? () => reporting.telemetry!() : async () => cpu.sample());
    this.info = {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      platform: registration.platform,
      targets: this.targets,
      refused: registration.refused,
      toolchains,
      hardware,
      notes,
      currentBuild: null,
      since: new Date().toISOString(),
      lastBeat: '',
    };

    // Work directories of builds that no worker runs any more (this worker's before a crash, or a
    // dead peer's on this machine) are tens of MB each: removed before taking work.
    const swept = await sweepLocalTemp(this.ctx, { olderThanMs: this.config.cleanup.tempAgeMs }).catch((err) => {
      this.logger.warn({ err }, `could not sweep ${this.config.tmpDir}: ${(err as Error).message}`);
      return null;
    });
    if (swept?.entries) this.logger.info({ swept }, `removed ${swept.entries} stale work directories and uploads (${swept.bytes} bytes)`);

    await this.subscriber.subscribe(this.ctx.keys.cancel);
    this.subscriber.on('message', (_channel: string, buildKey: string) => {
      if (this.current?.buildKey === buildKey) this.current.abort.abort('cancel' satisfies AbortReason);
    });
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((err) => this.logger.warn({ err }, 'heartbeat failed')), this.config.heartbeatMs);
    this.heartbeat.unref();

    const jobs = new JobSource<BuildJobData, BuildJobResult>(
      this.ctx.redis,
      this.targets,
      (job, token) => this.runJob(job, token),
      // The crash budget follows KILN_ATTEMPTS: a build survives as many worker crashes as it has
      // attempts (docs/recovery.md); BullMQ fails it on the next one.
      { prefix: `${this.config.prefix}:bull`, lockDuration: this.config.lockMs, stalledInterval: this.config.stalledMs, maxStalledCount: this.config.attempts },
      this.id,
    );
    jobs.on('error', (err, target) => this.logger.error({ err, target }, `queue ${target}: ${err.message}`));
    // A job whose workers died too often is failed by BullMQ's stalled-job check, where no
    // build code runs: the record must not stay 'active' for ever.
    jobs.on('failed', (job, err) => {
      if (job && /stalled/i.test(err.message)) void this.failStalled(job.data.buildKey, err.message);
    });
    this.jobs = jobs;
    await jobs.start();
    this.logger.info({ targets: this.targets }, `serving ${this.targets.length ? this.targets.join(', ') : 'no targets'}`);
  }

  private async beat(): Promise<void> {
    // A failed reading must not stop the heartbeat: the worker is alive even if NVML is not.
    const sample = await this.sampleTelemetry().catch(() => null);
    const ttlMs = this.config.heartbeatMs * 3;
    const paused = this.outage.current;
    await this.ctx.workers.beat({ ...this.info, currentBuild: this.current?.buildKey ?? null, ...(paused ? { paused } : {}), ...(sample ? { telemetry: { ...sample } } : {}) }, ttlMs);
    if (sample) await pushTelemetry(this.ctx.redis, this.ctx.keys, this.id, sample, { ttlMs });
    await this.pushMetrics();
  }

  /** The worker's numbers to Redis, where the API's /metrics reads them (src/state/fleet-metrics.ts). */
  private pushMetrics(): Promise<void> {
    return pushWorkerMetrics(this.ctx.redis, this.ctx.keys, this.id, this.ctx.metrics.registry, this.config.heartbeatMs * 3);
  }

  /** Counted and pushed before the build's record says it ended, so /metrics never lags the API. */
  private async attemptEnded(target: string, outcome: BuildOutcome, startedAt: number): Promise<void> {
    this.metrics.attemptEnded(target, outcome, (Date.now() - startedAt) / 1000);
    await this.pushMetrics().catch((err) => this.logger.warn({ err }, 'pushing metrics failed'));
  }

  private async runJob(job: BuildJob, token: string | undefined): Promise<BuildJobResult> {
    const { buildKey, spec } = job.data;
    // The job is this worker's from here (BullMQ took it under our lock): that is when the build
    // started, whatever this attempt reads before its record says so (docs/performance.md).
    const startedAt = new Date().toISOString();
    const toolchain = this.toolchainByTarget.get(spec.targetKey);
    if (!toolchain) throw new UnrecoverableError(`Worker ${this.id} cannot build ${spec.targetKey}`);
    const now = () => new Date().toISOString();
    // Tries so far, crashes included: a stalled job comes back with its stalledCounter raised.
    const attempt = job.attemptsMade + (job.stalledCounter ?? 0) + 1;
    const log = this.logger.child({ buildKey, target: spec.targetKey });

    // Before the build starts, an error still has to reach the record: a build is never left
    // queued by a failure that only BullMQ saw (docs/recovery.md).
    let record;
    try {
      // A stalled job can come back after its set was published (the worker died just after): done.
      // Both at once: one is a file (or S3) read, the other a Redis read.
      const [existing, found] = await Promise.all([readManifest(this.ctx.store, buildKey), this.ctx.builds.get(buildKey)]);
      if (existing) {
        await this.ctx.artifacts.add(existing);
        await this.finish(buildKey, { state: 'succeeded', percent: 100, finishedAt: now(), verdict: existing.validation });
        return { published: false };
      }
      record = found;
    } catch (err) {
      return this.failedBeforeStart(job, token, attempt, err, log);
    }
    if (record?.cancelRequested) {
      await this.finish(buildKey, { state: 'cancelled', finishedAt: now(), error: 'cancelled' });
      throw new UnrecoverableError('cancelled');
    }

    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort('timeout' satisfies AbortReason), spec.options.timeoutSeconds * 1000);
    const attemptStarted = Date.now();
    // Sent together (one connection keeps their order): the event never precedes the record.
    await Promise.all([
      this.ctx.builds.update(buildKey, { state: 'active', worker: this.id, startedAt, attempts: attempt, percent: 0 }, ['error']),
      publishEvent(this.ctx.redis, this.ctx.keys, { type: 'state', buildKey, state: 'active', at: startedAt }),
    ]);
    log.info({ attempt }, `building ${buildKey.slice(0, 12)} for ${spec.targetKey} (attempt ${attempt})`);

    const onPhaseEnd = (phase: string, seconds: number) => this.metrics.phaseSeconds.observe({ target: spec.targetKey, phase }, seconds);
    const done = runPipeline({ ctx: this.ctx, toolchain, worker: this.facts, buildKey, spec, signal: abort.signal, signer: this.signer, onPhaseEnd });
    this.current = { buildKey, abort, done: done.catch(() => undefined) };
    if (this.graceOver) abort.abort('shutdown' satisfies AbortReason);
    void this.beat().catch(() => undefined);
    try {
      const result = await done;
      try {
        await this.attemptEnded(spec.targetKey, 'succeeded', attemptStarted);
        await this.finish(buildKey, {
          state: 'succeeded',
          percent: 100,
          finishedAt: now(),
          verdict: result.manifest.validation,
          // The report is the artifact set's report.json; the record does not keep a copy (src/state/build-records.ts).
          publishedByThisBuild: result.published,
        });
      } finally {
        // After the record says it finished, before the next job (src/worker/pipeline.ts).
        await result.removeWorkDir().catch((err: Error) => log.warn({ err }, `could not remove the work directory: ${err.message}`));
      }
      log.info({ published: result.published }, `succeeded ${buildKey.slice(0, 12)}${result.published ? '' : ' (another worker published it first)'}`);
      return { published: result.published };
    } catch (err) {
      const reason = abort.signal.aborted ? (abort.signal.reason as AbortReason) : null;
      if (reason === 'shutdown' && token) {
        // Handed back: the job goes back to the queue without using up an attempt.
        await this.attemptEnded(spec.targetKey, 'handed_back', attemptStarted);
        await this.finish(buildKey, { state: 'queued', percent: 0, error: `handed back by ${this.id} at shutdown` }, false);
        await job.moveToDelayed(Date.now(), token);
        log.info('handed back at shutdown');
        throw new DelayedError();
      }
      if (reason === 'cancel') {
        await this.attemptEnded(spec.targetKey, 'cancelled', attemptStarted);
        await this.finish(buildKey, { state: 'cancelled', finishedAt: now(), error: 'cancelled' });
        log.info('cancelled');
        throw new UnrecoverableError('cancelled');
      }
      const outage = reason === null ? OutagePause.of(err) : null;
      if (outage && token) {
        await this.attemptEnded(spec.targetKey, 'handed_back', attemptStarted);
        return this.waitOutOutage(job, token, outage, log);
      }
      const message = reason === 'timeout' ? `Build timed out after ${spec.options.timeoutSeconds} s (options.timeoutSeconds)` : errorMessage(err);
      const final = reason === 'timeout' || err instanceof BuildInputError || attempt >= (job.opts.attempts ?? 1);
      log.warn({ attempt, final, err }, `${final ? 'failed' : 'attempt failed'} ${buildKey.slice(0, 12)}: ${message}`);
      await this.attemptEnded(spec.targetKey, final ? 'failed' : 'retrying', attemptStarted);
      if (final) {
        await this.finish(buildKey, { state: 'failed', finishedAt: now(), error: message, inputError: err instanceof BuildInputError || undefined });
        throw new UnrecoverableError(message);
      }
      await this.finish(buildKey, { state: 'queued', error: `attempt ${attempt} failed, retrying: ${message}` }, false);
      throw err;
    } finally {
      clearTimeout(timeout);
      this.current = null;
      void this.beat().catch(() => undefined);
    }
  }

  /** An error before the build started: an outage is waited out, anything else is an attempt. */
  private async failedBeforeStart(job: BuildJob, token: string | undefined, attempt: number, err: unknown, log: Logger): Promise<never> {
    const { buildKey } = job.data;
    const outage = OutagePause.of(err);
    if (outage && token) return this.waitOutOutage(job, token, outage, log);
    const message = errorMessage(err);
    const final = attempt >= (job.opts.attempts ?? 1);
    log.warn({ attempt, final, err }, `could not start ${buildKey.slice(0, 12)}: ${message}`);
    if (final) {
      await this.finish(buildKey, { state: 'failed', finishedAt: new Date().toISOString(), error: `Could not start the build: ${message}` });
      throw new UnrecoverableError(message);
    }
    await this.finish(buildKey, { state: 'queued', error: `attempt ${attempt} could not start, retrying: ${message}` }, false);
    throw err;
  }

  /**
   * The store is down: the job goes back to the queue without using an attempt (BullMQ counts a
   * DelayedError as no attempt), the record says why it waits, and the worker pauses until the
   * store is back, so the queue's other builds are not burned on the outage either.
   */
  private async waitOutOutage(job: BuildJob, token: string, outage: OutageState, log: Logger): Promise<never> {
    const { buildKey } = job.data;
    log.warn({ outage }, `storage unavailable (${outage.reason}) for ${buildKey.slice(0, 12)}: back to the queue without using an attempt`);
    await this.finish(buildKey, { state: 'queued', percent: 0, error: `storage unavailable (${outage.reason}): waiting for it to come back; this does not use up an attempt` }, false);
    await job.moveToDelayed(Date.now() + this.config.retryDelayMs, token);
    this.outage.begin(outage);
    throw new DelayedError();
  }

  private async failStalled(buildKey: string, reason: string): Promise<void> {
    const record = await this.ctx.builds.get(buildKey);
    if (record && (record.state === 'active' || record.state === 'queued')) {
      await this.finish(buildKey, { state: 'failed', finishedAt: new Date().toISOString(), error: `Its workers stopped answering too often (${reason})` });
    }
  }

  private async finish(buildKey: string, fields: Parameters<FarmContext['builds']['update']>[1], terminal = true): Promise<void> {
    // A finished build has no cancel pending: the flag is cleared rather than kept as "false".
    // Sent together (one connection keeps their order): the event never precedes the record.
    await Promise.all([
      this.ctx.builds.update(buildKey, fields, terminal ? ['cancelRequested'] : []),
      publishEvent(this.ctx.redis, this.ctx.keys, {
        type: 'state',
        buildKey: buildKey,
        state: fields.state!,
        error: fields.error,
        at: new Date().toISOString(),
      }),
    ]);
  }

  /**
   * Stops taking jobs, lets the current build finish for up to `graceMs`, then aborts it and hands
   * it back to the queue; deregisters and closes connections.
   */
  async stop(graceMs = this.config.shutdownGraceMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.outage.stop();
    this.jobs?.pause();
    if (this.current) this.logger.info({ buildKey: this.current.buildKey }, `waiting up to ${graceMs} ms for build ${this.current.buildKey.slice(0, 12)}`);
    // A job taken just before pause() may not have started its build yet: the grace covers it too.
    const timer = setTimeout(() => {
      this.graceOver = true;
      this.current?.abort.abort('shutdown' satisfies AbortReason);
    }, graceMs);
    await this.jobs?.close();
    clearTimeout(timer);
    // The toolchains' long-lived processes (ONNX Runtime's optimiser) end with the worker.
    await Promise.all(this.options.toolchains.map((t) => t.close?.()));
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ctx.workers.remove(this.id);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

function errorMessage(err: unknown): string {
  if ((err as NodeJS.ErrnoException | null)?.code === 'ENOSPC') {
    return `No space left on a disk this build writes to (${(err as Error).message}): free space on the worker (its KILN_HOME) and the store (KILN_DATA_DIR), then retry the build. Nothing was published`;
  }
  return err instanceof Error ? err.message : String(err);
}
