/**
 * Validation of a TensorRT engine (the seed paper's method): seeded inputs (or the user's) are
 * written as raw binaries in the engine's binding types, trtexec runs the engine once on them
 * (`--loadInputs`, `--exportOutput`), and ONNX Runtime runs the original model on the CPU on the
 * same inputs as the reference. Per output: the share of elements outside isclose(rtol, atol),
 * max absolute and relative error. Tolerances default by the narrowest precision the engine may
 * compute in (options.tensorrt.precision), overridable by options.validation.rtol/atol.
 *
 * The engine is run exactly as it was built and loads where it is deployed (a refittable engine
 * as refittable; a stripped one refitted from the same ONNX): refit mode can change numerics
 * (TensorRT 11.3's notes), so what is validated is what is published.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ValidationReport } from '../../../core/report';
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

export async function validateTensorRt(ctx: StepContext, built: TensorRtBuilt, setup: TensorRtSetup): Promise<ValidationReport> {
  const { validation, tensorrt: options } = ctx.spec.options;
  const { rtol, atol } = tolerancesFor(computePrecisionOf(options.precision), { rtol: validation.rtol, atol: validation.atol });
  const profile = built.engine.profiles?.[0];
  const shapes = validationShapesFor(ctx.model, ctx.spec.options, profile);
  const inputs = makeInputs(ctx.model, shapes, validation);
  ctx.progress(0);

  const dir = path.join(ctx.workDir, 'validation');
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
      inputs: files,
      exportOutput: exportFile,
    }),
    ...deviceArgs(setup),
  ];
  const run = await loggedRun(ctx, setup, args);
  if (run.aborted) throw abortError(ctx.signal, run.killed);
  if (run.code !== 0 || run.log.status !== 'passed') throw trtexecFailure(run, `validation run on inputs ${describeInputs(inputs)}`);
  const candidate: Record<string, OutputTensor> = {};
  for (const out of await readExportedOutputs(exportFile)) candidate[out.name] = { type: 'double', dims: out.dims, data: out.values };
  ctx.progress(50);

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
    log: (line) => ctx.log(line),
    missingNote: 'trtexec exported no such output',
  });
  ctx.progress(100);
  return report;
}
