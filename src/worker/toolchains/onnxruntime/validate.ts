/**
 * Validation of an ONNX Runtime build: the original model, run by ONNX Runtime with every
 * optimisation disabled, is the reference; the built model, also loaded with optimisations
 * disabled so that exactly the written artifact runs, is the candidate. Both see the same seeded
 * (or user) inputs, and every output is compared.
 */
import type { ValidationReport } from '../../../core/report';
import { validationReport } from '../../validation/validation-report';
import { validationShapes } from '../../validation/input-shapes';
import { makeInputs } from '../../validation/seeded-inputs';
import { tolerancesFor } from '../../validation/tolerances';
import type { BuildOutput, StepContext } from '../toolchain';
import { REFERENCE_NAME } from './options';
import { runReference, runSession, withSession } from './session';

export async function validateOnnxRuntime(ctx: StepContext, built: BuildOutput): Promise<ValidationReport> {
  const { validation } = ctx.spec.options;
  // ONNX Runtime computes in the model's own types, so fp32 tolerances apply.
  const { rtol, atol } = tolerancesFor('fp32', { rtol: validation.rtol, atol: validation.atol });
  const inputs = makeInputs(ctx.model, validationShapes(ctx.model, ctx.spec.options), validation);
  ctx.progress(0);

  ctx.signal.throwIfAborted();
  const reference = await runReference(ctx.modelPath, inputs);
  ctx.progress(50);

  ctx.signal.throwIfAborted();
  const candidate = await withSession(
    built.primary.path,
    'disabled',
    `the built ${built.primary.name}`,
    async (session) => {
      try {
        return await runSession(session, inputs);
      } catch (err) {
        throw new Error(`ONNX Runtime could not run the built ${built.primary.name} on inputs the original model accepts: ${(err as Error).message}`);
      }
    },
    false,
  );
  const report = validationReport({ referenceName: REFERENCE_NAME, reference, candidate, inputs, rtol, atol, options: validation, log: (line) => ctx.log(line) });
  ctx.progress(100);
  return report;
}
