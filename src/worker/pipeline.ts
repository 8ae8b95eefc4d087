/**
 * One build, start to finish: preparing -> building -> validating -> benchmarking -> publishing.
 * The toolchain does the work of each step; the pipeline owns what is the same for every
 * toolchain: the model download, progress and logs, the report, and publishing manifest-last.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildSpec } from '../core/build-spec';
import { LAYER_PROFILE_FILE, summarizeLayerProfile, type LayerProfile } from '../core/layer-profile';
import { LOG_FILE, REPORT_FILE, type Manifest, type WorkerFacts } from '../core/manifest';
import { readModelInfo } from '../core/onnx/read-model';
import { InputTensorsSchema } from '../core/options';
import type { BuildReport } from '../core/report';
import type { FarmContext } from '../context';
import { expireLogLines, publishEvent } from '../state/build-events';
import { findPreviousVersion, measureDrift } from './drift';
import { inputsKey, modelKey } from '../storage/layout';
import { downloadToFile, publishArtifactSet } from '../storage/publish';
import { writeProvenance, type Signer } from './provenance';
import { BuildInputError, type BuildOutput, type Phase, type StepContext, type Toolchain } from './toolchains/toolchain';

/** Validation found the artifact wrong; retrying gives the same artifact, so it is final. */
export class ValidationFailedError extends BuildInputError {
  override name = 'ValidationFailedError';
}

export interface PipelineInput {
  ctx: FarmContext;
  toolchain: Toolchain;
  worker: WorkerFacts;
  buildKey: string;
  spec: BuildSpec;
  signal: AbortSignal;
  /** Signs the set's provenance with the farm key (src/signing-key.ts). */
  signer: Signer;
  /** Told how long each phase took when it ends (also when the build fails in it), for metrics. */
  onPhaseEnd?: (phase: Phase, seconds: number) => void;
}

export interface PipelineResult {
  published: boolean;
  manifest: Manifest;
  report: BuildReport;
  /**
   * Removes the build's work directory. A build that succeeded leaves it to the worker, which
   * records the build as finished first and then removes it, before taking its next job: the
   * removal is housekeeping, not part of the build (a crash in between leaves a directory that
   * sweepLocalTemp removes, as its build is no longer active). A failed build removes it itself.
   */
  removeWorkDir(): Promise<void>;
}

/** Progress updates go to Redis at most this often (phase changes always go at once). */
const PROGRESS_INTERVAL_MS = 250;

export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const { ctx, toolchain, buildKey, spec, signal } = input;
  const started = Date.now();
  const startedOn = new Date(started);
  const workDir = await makeWorkDir(ctx.config.tmpDir, `build-${buildKey.slice(0, 12)}-`);
  const logPath = path.join(workDir, LOG_FILE);
  const logFile = createWriteStream(logPath);
  // A full disk must fail the build through the publish step, not crash the worker.
  logFile.on('error', () => undefined);
  let phase: Phase = 'preparing';
  let phaseStarted = Date.now();
  let lastProgress = 0;
  let succeeded = false;
  const endPhase = () => input.onPhaseEnd?.(phase, (Date.now() - phaseStarted) / 1000);

  const log = (line: string) => {
    // A toolchain's child process may still print after the build ended (killed on cancel or timeout).
    if (logFile.writable) logFile.write(`${line}\n`);
    void publishEvent(ctx.redis, ctx.keys, { type: 'log', buildKey: buildKey, line, at: new Date().toISOString() });
  };
  const progress = (percent: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_INTERVAL_MS && percent < 100) return;
    lastProgress = now;
    const clamped = Math.max(0, Math.min(100, Math.round(percent)));
    void ctx.builds.update(buildKey, { phase, percent: clamped });
    void publishEvent(ctx.redis, ctx.keys, { type: 'progress', buildKey: buildKey, phase, percent: clamped, at: new Date().toISOString() });
  };
  const enter = (next: Phase) => {
    if (next !== phase) endPhase();
    phase = next;
    phaseStarted = Date.now();
    log(`== ${next}`);
    progress(0, true);
  };

  try {
    enter('preparing');
    const modelPath = path.join(workDir, 'model.onnx');
    await downloadToFile(ctx.store, modelKey(spec.modelId), modelPath, spec.modelId);
    const model = await readModelInfo(modelPath, { sha256: spec.modelId });
    log(`model ${spec.modelId} (${model.size} bytes, ${model.inputs.length} inputs, ${model.outputs.length} outputs)`);
    const resolved = await withUploadedInputs(ctx, spec, workDir, log);
    const step: StepContext = { buildKey, spec: resolved, model, modelPath, workDir, signal, progress: (p) => progress(p), log };
    signal.throwIfAborted();

    enter('building');
    const built: BuildOutput = await toolchain.build(step);
    signal.throwIfAborted();

    const report: BuildReport = {
      schema: 1,
      buildKey,
      targetKey: spec.targetKey,
      toolchain: { name: toolchain.name, version: input.worker.toolchains[toolchain.name] ?? 'unknown' },
      build: { seconds: 0, details: built.details },
      validation: null,
      benchmark: null,
      warnings: built.warnings,
    };
    let profile: { profile: LayerProfile; path: string } | null = null;
    if (built.cannotRun) {
      // Published as built, never run as something it is not: the report says why there are no numbers.
      report.skipped = built.cannotRun;
      log(`validation and benchmark skipped: ${built.cannotRun}`);
    } else {
      enter('validating');
      const validation = await toolchain.validate(step, built);
      report.validation = validation;
      log(`validation: ${validation.verdict} (${validation.outputs.map((o) => `${o.name}: ${o.mismatched}/${o.elements} outside tolerance`).join(', ')})`);
      if (validation.verdict === 'fail') {
        await ctx.builds.update(buildKey, { report, verdict: 'fail' });
        const worst = validation.outputs.filter((o) => o.verdict === 'fail').map((o) => `${o.name}: ${(o.mismatchRatio * 100).toFixed(2)}% of elements outside isclose(rtol=${validation.rtol}, atol=${validation.atol}), max abs error ${o.maxAbsError}`);
        throw new ValidationFailedError(`Validation failed against ${validation.reference}: ${worst.join('; ')}`);
      }
      await gateDrift(input, step, report, log);
      signal.throwIfAborted();

      enter('benchmarking');
      report.benchmark = await toolchain.benchmark(step, built);
      signal.throwIfAborted();
      profile = await readLayerProfile(workDir);
      if (profile) report.layerProfile = summarizeLayerProfile(profile.profile);
    }

    enter('publishing');
    report.build.seconds = (Date.now() - started) / 1000;
    const reportPath = path.join(workDir, REPORT_FILE);
    await writeFile(reportPath, JSON.stringify(report, null, 2));
    log(`published by ${input.worker.id}`);
    await new Promise<void>((resolve, reject) => logFile.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const files = [
      built.primary,
      ...built.extra,
      ...(profile ? [{ name: LAYER_PROFILE_FILE, path: profile.path, role: 'layer-profile' as const }] : []),
      { name: REPORT_FILE, path: reportPath, role: 'report' as const },
      { name: LOG_FILE, path: logPath, role: 'log' as const },
    ];
    const result = await publishArtifactSet(ctx.store, {
      buildKey,
      files,
      reuseWithinMs: ctx.config.cleanup.graceMs / 2,
      attest: async (entries) => [
        await writeProvenance(
          {
            workDir,
            buildKey,
            spec,
            toolchain: report.toolchain,
            invocation: built.invocation ?? {},
            worker: input.worker,
            workerImage: ctx.config.workerImage,
            startedOn,
            signer: input.signer,
          },
          entries,
        ),
      ],
      makeManifest: (entries) => ({
        schema: 1,
        buildKey,
        spec,
        primary: built.primary.name,
        files: entries,
        worker: input.worker,
        validation: report.validation?.verdict ?? 'skipped',
        publishedAt: new Date().toISOString(),
        buildSeconds: report.build.seconds,
      }),
    });
    await Promise.all([ctx.artifacts.add(result.manifest), expireLogLines(ctx.redis, ctx.keys, buildKey)]);
    progress(100, true);
    succeeded = true;
    return { published: result.published, manifest: result.manifest, report, removeWorkDir: () => rm(workDir, { recursive: true, force: true }) };
  } finally {
    endPhase();
    if (!logFile.writableEnded) await new Promise<void>((resolve) => logFile.end(() => resolve()));
    if (!succeeded) await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A spec whose validation inputs were uploaded (options.validation.inputsRef) gets them inline, read
 * from the store and checked by their sha256, for the steps that use them. The build key stays the
 * one of the spec as submitted.
 */
async function withUploadedInputs(ctx: FarmContext, spec: BuildSpec, workDir: string, log: (line: string) => void): Promise<BuildSpec> {
  const ref = spec.options.validation.inputsRef;
  if (!ref) return spec;
  const file = path.join(workDir, 'inputs.json');
  const { size } = await downloadToFile(ctx.store, inputsKey(ref), file, ref);
  const parsed = InputTensorsSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new BuildInputError(`Expected input tensors in the uploaded inputs ${ref} but received: ${parsed.error.issues[0]?.message}`);
  log(`validation inputs ${ref} (${size} bytes: ${Object.keys(parsed.data).join(', ')})`);
  return { ...spec, options: { ...spec.options, validation: { ...spec.options.validation, inputs: parsed.data } } };
}

/** Compares with the previous version of the model, when there is one, and fails the build past options.validation.maxDrift. */
async function gateDrift(input: PipelineInput, step: StepContext, report: BuildReport, log: (line: string) => void): Promise<void> {
  const found = await findPreviousVersion(input.ctx, input.spec);
  if (!found || !report.validation) return;
  const drift = await measureDrift(input.ctx, step, found);
  report.validation.drift = drift;
  const limit = drift.maxDrift === null ? 'no gate set (options.validation.maxDrift)' : `options.validation.maxDrift ${drift.maxDrift}`;
  log(`drift from ${drift.previous.label} (build ${drift.previous.buildKey.slice(0, 12)}): ${drift.verdict}, ${drift.outputs.map((o) => `${o.name} max |Δ| ${o.maxAbsDiff}`).join(', ') || drift.note}; ${limit}`);
  if (drift.verdict !== 'fail') return;
  await input.ctx.builds.update(input.buildKey, { report, verdict: 'fail' });
  const over = drift.outputs.filter((o) => o.verdict === 'fail').map((o) => `${o.name} moved by up to ${o.maxAbsDiff}`);
  throw new ValidationFailedError(
    `Drift gate failed: ${drift.label} differs from ${drift.previous.label} (published build ${drift.previous.buildKey.slice(0, 12)}) on the seeded inputs by more than options.validation.maxDrift ${drift.maxDrift}: ${over.join('; ')}`,
  );
}

/** The layer profile the toolchain's benchmark wrote, if it wrote one. */
async function readLayerProfile(workDir: string): Promise<{ profile: LayerProfile; path: string } | null> {
  const file = path.join(workDir, LAYER_PROFILE_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  return text === null ? null : { profile: JSON.parse(text) as LayerProfile, path: file };
}

/** A fresh work directory; the temp root is made only when it is missing (the first build, or someone removed it), not once per build. */
async function makeWorkDir(tmpDir: string, prefix: string): Promise<string> {
  try {
    return await mkdtemp(path.join(tmpDir, prefix));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(tmpDir, { recursive: true });
    return mkdtemp(path.join(tmpDir, prefix));
  }
}
