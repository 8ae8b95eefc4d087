/**
 * Submitting a request: one build key per target; a published key answers at once (`cached`) and
 * enqueues nothing; otherwise one job per key, joined by anyone who asks for the same key.
 *
 * A request that some target cannot build is refused whole, before anything is queued: a TensorRT
 * target key names its TensorRT version and CC, so the worker's option gates can be run here, and
 * a calibration cache must have been uploaded. The worker checks again before trtexec runs.
 */
import { buildKeyOf, makeBuildSpec } from '../core/build-spec';
import type { BuildOptions } from '../core/options';
import { BestMetricSchema, type BestMetric, type Sweep } from '../core/sweep';
import type { RequestSweep } from '../state/requests';
import { planSweep, type PlannedBuild } from './sweep-plan';
import { TargetParseError, toTarget, targetKey, type Target, type TensorRtTarget } from '../core/target';
import { checkOptionsForTarget } from '../core/tensorrt/build-argv';
import { TrtOptionError } from '../core/tensorrt/errors';
import type { FarmContext } from '../context';
import type { BuildRecord, BuildState } from '../state/build-records';
import { publishEvent } from '../state/build-events';
import { hasCalibrationCache, missingCalibrationMessage } from '../storage/calibration-caches';
import { inputsKey } from '../storage/layout';
import { readManifest } from '../storage/publish';
import { buildJson } from './build-json';
import { ApiError, badRequest } from './errors';
import { waitingFor, type Waiting } from './waiting';

/** A request as SubmitSchema parsed it at the edge: options are typed, with every default filled in. */
export interface SubmitInput {
  model: string;
  targets: 'live' | unknown[];
  options: BuildOptions;
  /** A sweep: option paths and the values to try (docs/sweeps.md); `rawOptions` are the options as given, before defaults. */
  sweep?: Sweep;
  best?: BestMetric;
  rawOptions?: unknown;
}

export interface SubmittedBuild {
  buildKey: string;
  /** The build key under its earlier name, kept for existing clients (see build-json.ts). */
  id: string;
  target: string;
  state: BuildState;
  cached: boolean;
  /** True when this request joined a build already queued or running. */
  joined: boolean;
  /** Why a queued build waits (src/api/waiting.ts). */
  waiting?: Waiting;
  warning?: string;
}

export interface SubmitResult {
  request: string;
  model: string;
  builds: SubmittedBuild[];
  /** For a sweep: each point, with its target, swept values and build key (or why its target refused it). */
  points?: RequestSweep['points'];
}

/** Quotas around a submission (src/api/limits.ts): asked before anything is queued, told after. */
export interface SubmitQuota {
  /** Throws (429) when `count` new builds may not be queued. */
  admit(count: number): Promise<void>;
  /** The builds this submission queued (created or requeued; not cached, not joined). */
  queued(buildKeys: string[]): Promise<void>;
}

export async function submitRequest(ctx: FarmContext, input: SubmitInput, quota?: SubmitQuota): Promise<SubmitResult> {
  checkInlineInputsSize(input.options, ctx.config.limits.maxInlineInputsBytes);
  await checkInputsRef(ctx, input.options);
  const model = await ctx.models.resolve(input.model);
  const { options } = input;
  const liveWorkers = await ctx.workers.live();
  const live = new Set(liveWorkers.flatMap((w) => w.targets));
  const targets = resolveTargets(input.targets, live);
  let planned: PlannedBuild[];
  let sweep: RequestSweep | undefined;
  if (input.sweep) {
    ({ builds: planned, sweep } = planSweep(model.sha256, targets, input.rawOptions ?? {}, input.sweep, input.best ?? BestMetricSchema.parse({}), ctx.config.limits.maxSweepPoints));
    await checkCalibration(ctx, planned.map((p) => p.spec.options));
  } else {
    await checkTargetsAccept(ctx, targets, options);
    planned = targets.map((target) => {
      const spec = makeBuildSpec(model.sha256, target, options);
      return { target, spec, buildKey: buildKeyOf(spec) };
    });
  }
  // Asked once per build key: the quota, the journal and the loop below all need it.
  const published = new Map<string, Promise<boolean>>();
  const publishedOnce = (buildKey: string): Promise<boolean> => {
    let answer = published.get(buildKey);
    if (!answer) published.set(buildKey, (answer = isPublished(ctx, model.sha256, buildKey)));
    return answer;
  };
  if (quota) {
    // Counted before anything is queued, so a refused request changes nothing: builds already
    // queued or running are joined and published ones answered, at no cost to the quota.
    const records = new Map((await ctx.builds.getMany(planned.map((p) => p.buildKey))).map((r) => [r.buildKey, r]));
    let fresh = 0;
    for (const p of planned) {
      const state = records.get(p.buildKey)?.state;
      if (state === 'queued' || state === 'active') continue;
      if (state === 'succeeded' && (await publishedOnce(p.buildKey))) continue;
      fresh++;
    }
    await quota.admit(fresh);
  }
  // A request whose every build is published (a resubmission) is answered from the index alone.
  const settled = (await Promise.all(planned.map((p) => publishedOnce(p.buildKey)))).every(Boolean);

  // Journaled in storage before anything is queued: an accepted request survives Redis losing it.
  const { record: request, journaled } = await ctx.requests.create({
    modelId: model.sha256,
    // A sweep's targets are the ones asked for (a point may build on a target's compatible variant).
    targets: sweep ? [...new Set(sweep.points.map((p) => p.target))] : planned.map((p) => p.spec.targetKey),
    options,
    // A sweep has several builds per target: its points name them.
    builds: sweep ? {} : Object.fromEntries(planned.map((p) => [p.spec.targetKey, p.buildKey])),
    ...(sweep ? { sweep } : {}),
  }, settled);
  if (!journaled) ctx.log.warn({ request: request.id }, `request ${request.id} accepted without its journal: the store refuses writes; Redis alone holds it`);
  const builds: SubmittedBuild[] = [];
  const queuedKeys: string[] = [];
  for (const { spec, buildKey } of planned) {
    const key = spec.targetKey;
    if (await publishedOnce(buildKey)) {
      const { record } = await ctx.builds.ensure(spec, buildKey, 'succeeded');
      if (record.state !== 'succeeded') await ctx.builds.update(buildKey, { state: 'succeeded', percent: 100 });
      builds.push(buildJson({ buildKey, target: key, state: 'succeeded' as const, cached: true, joined: false }));
      continue;
    }
    // The job lookup goes out with the record's creation: one round trip for both.
    const job = ctx.queues.findJob(spec.targetKey, buildKey);
    job.catch(() => undefined);
    const { record, created } = await ctx.builds.ensure(spec, buildKey, 'queued');
    // A failed, cancelled (or unpublished-since) build asked for again is built again. Who created
    // or requeued the record owns the build; every concurrent asker else joined it (atomic in Redis).
    const requeued = !created && isFinished(record) && (await ctx.builds.requeueIfFinished(buildKey));
    const joined = !created && !requeued;
    // Live views (dashboard tables) learn of new and requeued builds at once. Sent before the
    // enqueue on the same connection, which keeps the order: the worker's 'active' always comes
    // after 'queued'; neither waits for the other (docs/performance.md).
    const announced = created || requeued ? publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey, state: 'queued', at: new Date().toISOString() }) : null;
    // Enqueued whoever asks: idempotent by job id, and it mends a joined build whose job was lost.
    await Promise.all([announced, ctx.queues.enqueue(spec, buildKey, job)]);
    if (!joined) queuedKeys.push(buildKey);
    const state = joined && !isFinished(record) ? record.state : 'queued';
    const entry: SubmittedBuild = buildJson({ buildKey, target: key, state, cached: false, joined });
    const waiting = waitingFor({ buildKey, targetKey: key, state: entry.state, error: joined ? record.error : undefined }, liveWorkers);
    if (waiting) entry.waiting = waiting;
    // `warning` predates `waiting` and is kept for existing clients.
    if (!live.has(key)) entry.warning = `No live worker serves ${key}; the build waits in its queue until one does`;
    builds.push(entry);
  }

  await Promise.all(builds.map((b) => ctx.builds.addRequest(b.buildKey, request.id)));
  await quota?.queued(queuedKeys);
  return { request: request.id, model: model.sha256, builds, ...(sweep ? { points: sweep.points } : {}) };
}

/**
 * Inline input tensors ride in the build spec, the job and the record (kept for days): past the
 * limit they are refused with 413 before anything is stored.
 */
function checkInlineInputsSize(options: BuildOptions, limit: number): void {
  const inputs = options.validation.inputs;
  if (!inputs) return;
  const size = Buffer.byteLength(JSON.stringify(inputs));
  if (size > limit) {
    throw new ApiError(
      413,
      'too_large',
      `options.validation.inputs is ${size} bytes of JSON; inline inputs are limited to ${limit} bytes (KILN_MAX_INLINE_INPUTS_BYTES). ` +
        'upload them (POST /v1/inputs, or kiln build --inputs FILE) and give options.validation.inputsRef, give smaller input tensors (options.shapes), leave options.validation.inputs out to validate on seeded inputs, or raise KILN_MAX_INLINE_INPUTS_BYTES',
      { limit, size },
    );
  }
}

function resolveTargets(input: 'live' | unknown[], live: Set<string>): Target[] {
  if (input === 'live') {
    if (live.size === 0) throw badRequest('No live worker serves any target, so "live" means nothing; name targets explicitly');
    return [...live].sort().map((k) => toTarget(k));
  }
  const seen = new Map<string, Target>();
  input.forEach((raw, i) => {
    try {
      const target = toTarget(raw);
      seen.set(targetKey(target), target);
    } catch (err) {
      if (err instanceof TargetParseError) throw badRequest(`targets[${i}]: ${err.message}`);
      throw err;
    }
  });
  return [...seen.values()];
}

/** Every problem of every target at once, so one resubmission can fix them all. */
async function checkTargetsAccept(ctx: FarmContext, targets: Target[], options: BuildOptions): Promise<void> {
  const tensorrt = targets.filter((t): t is TensorRtTarget => t.toolchain === 'tensorrt');
  if (tensorrt.length === 0) return;
  const problems: string[] = [];
  for (const target of tensorrt) {
    try {
      checkOptionsForTarget(target, options.tensorrt);
    } catch (err) {
      if (!(err instanceof TrtOptionError)) throw err;
      problems.push(`${targetKey(target)}: ${err.message}`);
    }
  }
  const calibration = options.tensorrt.calibration;
  if (calibration && !(await hasCalibrationCache(ctx.store, calibration))) problems.push(missingCalibrationMessage(calibration));
  if (problems.length > 0) throw badRequest(problems.join('; '), { problems });
}

/** Uploaded inputs a request names must be stored: a build would otherwise fail on the worker. */
async function checkInputsRef(ctx: FarmContext, options: BuildOptions): Promise<void> {
  const ref = options.validation.inputsRef;
  if (ref && !(await ctx.store.head(inputsKey(ref)))) {
    throw badRequest(`options.validation.inputsRef: no inputs ${ref} are stored; upload them first with POST /v1/inputs (kiln build --inputs FILE does it for you)`);
  }
}

/** The calibration caches a sweep's TensorRT builds name must have been uploaded. */
async function checkCalibration(ctx: FarmContext, optionSets: BuildOptions[]): Promise<void> {
  const names = [...new Set(optionSets.map((o) => o.tensorrt?.calibration).filter((c): c is NonNullable<typeof c> => Boolean(c)))];
  const problems: string[] = [];
  for (const name of names) if (!(await hasCalibrationCache(ctx.store, name))) problems.push(missingCalibrationMessage(name));
  if (problems.length > 0) throw badRequest(problems.join('; '), { problems });
}

function isFinished(record: BuildRecord): boolean {
  return record.state === 'failed' || record.state === 'cancelled' || record.state === 'succeeded';
}

/** The index answers fast; a manifest in storage that the index missed counts too, and is indexed. */
async function isPublished(ctx: FarmContext, modelId: string, buildKey: string): Promise<boolean> {
  if (await ctx.artifacts.get(modelId, buildKey)) return true;
  const manifest = await readManifest(ctx.store, buildKey);
  if (!manifest) return false;
  await ctx.artifacts.add(manifest);
  return true;
}
