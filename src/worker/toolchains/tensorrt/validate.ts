/**
 * Validation of a TensorRT engine (the seed paper's method): seeded inputs (or the user's) are
 * written as raw binaries in the engine's binding types, trtexec runs the engine once on them
 * (`--loadInputs`, `--exportOutput`), and ONNX Runtime runs the original model on the CPU on the
 * same inputs as the reference. Per output: the share of elements outside isclose(rtol, atol),
 * max absolute and relative error. Tolerances default by the narrowest precision the engine may
 * compute in (options.tensorrt.precision), overridable by options.validation.rtol/atol.
 *
 * Every optimization profile is validated on its own (`--useProfile=N`, TensorRT >= 9.0; 8.6
 * builds one profile only), at shapes that profile accepts: an engine is published only when every
 * profile a client may select computes what the model does.
 *
 * The engine is run exactly as it was built and loads where it is deployed (a refittable engine
 * as refittable; a stripped one refitted from the same ONNX): refit mode can change numerics
 * (TensorRT 11.3's notes), so what is validated is what is published.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ProfileValidation, ValidationReport, Verdict } from '../../../core/report';
import type { ShapeProfile } from '../../../core/tensorrt/options';
import type { OutputTensor } from '../../validation/compare';
import { validationReport } from '../../validation/validation-report';
import { makeInputs, writeRawTensor } from '../../validation/seeded-inputs';
import { tolerancesFor } from '../../validation/tolerances';
import { describeInputs, runReference } from '../onnxruntime/session';
import { inferenceArgs } from '../../../core/tensorrt/inference-argv';
import { computePrecisionOf } from '../../../core/tensorrt/precision';
import type { StepContext } from '../toolchain';
import { bindingType, toBinding } from './bindings';
import type { TensorRtBuilt } from './build';
import { readExportedOutputs } from './export-output';
import { trtexecFailure } from './failure';
import { dynamicShapes, validationShapesFor } from './profiles';
import { abortError, deviceArgs, loggedRun, type TensorRtSetup } from './setup';

export const REFERENCE_NAME = 'onnxruntime-cpu';

const RANK: Record<Verdict, number> = { pass: 0, warn: 1, fail: 2 };

export async function validateTensorRt(ctx: StepContext, built: TensorRtBuilt, setup: TensorRtSetup): Promise<ValidationReport> {
  const profiles = built.engine.profiles;
  if (!profiles || profiles.length === 0) {
    const report = await validateProfile(ctx, built, setup, undefined, 0, (p) => ctx.progress(p));
    ctx.progress(100);
    return report;
  }
  const reports: ValidationReport[] = [];
  for (const [index, profile] of profiles.entries()) {
    ctx.signal.throwIfAborted();
    const span = 100 / profiles.length;
    const report = await validateProfile(ctx, built, setup, profile, index, (p) => ctx.progress(index * span + (p * span) / 100));
    ctx.log(`validation profile ${index}: ${report.verdict}`);
    reports.push(report);
  }
  ctx.progress(100);
  // The worst profile speaks for the engine (the first of equals: profile 0 when all are alike).
  const worst = reports.reduce((w, r, i) => (RANK[r.verdict] > RANK[reports[w].verdict] ? i : w), 0);
  const perProfile: ProfileValidation[] = reports.map((r, index) => ({ index, shapes: profiles[index], verdict: r.verdict, inputs: r.inputs, outputs: r.outputs }));
  return { ...reports[worst], profile: worst, profiles: perProfile };
}

async function validateProfile(
  ctx: StepContext,
  built: TensorRtBuilt,
  setup: TensorRtSetup,
  profile: ShapeProfile | undefined,
  profileIndex: number,
  progress: (percent: number) => void,
): Promise<ValidationReport> {
  const { validation, tensorrt: options } = ctx.spec.options;
  const { rtol, atol } = tolerancesFor(computePrecisionOf(options.precision), { rtol: validation.rtol, atol: validation.atol });
  const shapes = validationShapesFor(ctx.model, ctx.spec.options, profile);
  const inputs = makeInputs(ctx.model, shapes, validation);
  progress(0);

  const dir = path.join(ctx.workDir, 'validation', `profile-${profileIndex}`);
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const [index, input] of ctx.model.inputs.entries()) {
    const file = path.join(dir, `input-${index}.bin`);
    await writeRawTensor(file, toBinding(inputs[input.name], bindingType(input.elementType, index, setup.trtexec.version, options)));
    files[input.name] = file;
  }
  const exportFile = path.join(dir, 'outputs.json');
  const args = [
    ...inferenceArgs({
      kind: 'validate',
      trt: setup.trtexec.version,
      engine: built.primary.path,
      loading: built.engine.loading,
      onnx: ctx.modelPath,
      shapes: dynamicShapes(ctx.model, shapes),
      profileIndex,
      inputs: files,
      exportOutput: exportFile,
    }),
    ...deviceArgs(setup),
  ];
  const run = await loggedRun(ctx, setup, args);
  if (run.aborted) throw abortError(ctx.signal, run.killed);
  const which = profileIndex > 0 ? ` of optimization profile ${profileIndex}` : '';
  if (run.code !== 0 || run.log.status !== 'passed') throw trtexecFailure(run, `validation run${which} on inputs ${describeInputs(inputs)}`);
  const candidate: Record<string, OutputTensor> = {};
  for (const out of await readExportedOutputs(exportFile)) candidate[out.name] = { type: 'double', dims: out.dims, data: out.values };
  progress(50);

  ctx.signal.throwIfAborted();
  const reference = await runReference(ctx.modelPath, inputs);
  const report = validationReport({
    referenceName: REFERENCE_NAME,
    reference,
    candidate,
    inputs,
    rtol,
    atol,
    options: validation,
    log: (line) => ctx.log(profileIndex > 0 ? `profile ${profileIndex}: ${line}` : line),
    missingNote: 'trtexec exported no such output',
  });
  progress(100);
  return report;
}
