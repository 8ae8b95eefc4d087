/**
 * Checks a fetched TensorRT engine before it is put in place: a plan that TensorRT would refuse to
 * load (another version, or not a plan at all) is better refused at fetch time, with the reason,
 * than at the client's first inference. The header reader is the one the worker checks plans with
 * before publishing them (bytes 0..3 `ftrt`, 4..7 serialization version 0, 24..27 the TensorRT
 * major.minor.patch.build that made the plan).
 */
import { PlanHeaderError } from '../core/tensorrt/errors';
import { checkPlan, type PlanHeader } from '../core/tensorrt/plan-header';

export { PlanHeaderError, type PlanHeader };

/**
 * Checks that the plan in `file` was made by TensorRT `expected` (major.minor.patch, or with the
 * build number as a fourth part). Messages name the file as `name`: `file` is a temp file.
 */
export async function checkPlanFile(file: string, expected: string, name = file): Promise<PlanHeader> {
  try {
    return await checkPlan(file, expected);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const message = err.message.split(file).join(name);
    throw new PlanHeaderError(err instanceof PlanHeaderError ? `${message}; TensorRT would refuse to load it` : message);
  }
}
