/**
 * What a failed trtexec run means for the build, decided from trtexec's own `[E]` lines:
 *
 * - the model or the options (BuildInputError, final: another attempt gives the same answer):
 *   an ONNX the parser refuses (`Failed to parse onnx file`, ModelImporter errors), a command line
 *   trtexec refuses (`Unknown option`, an invalid value), no kernel for a layer (`Could not find
 *   any implementation`, which a larger workspace or other options may fix, not a retry);
 * - the machine (plain Error, retried, possibly on another worker): CUDA out of memory (another
 *   process may hold the GPU's memory), CUDA or driver errors, a crash, a signal, and anything
 *   not recognised, because a wrong "final" costs a user a resubmission while a wrong "retry"
 *   costs only an attempt.
 *
 * Either way the message carries trtexec's own error lines, first ones first: the first usually
 * names the cause, the last the outcome.
 */
import { BuildInputError } from '../toolchain';
import type { TrtexecRun } from './run-trtexec';

const INPUT_ERRORS = [
  /Unknown option/i,
  /Failed to parse onnx file/i,
  /ModelImporter\.cpp/,
  /Assertion failed/i,
  /Could not find any implementation/i,
  /Invalid (?:usage|DataType|TensorFormat|IOFormat)/i,
  /Unknown (?:hardwareCompatibilityLevel|precision constraints|memory pool|tactic source|profilingVerbosity)/i,
  /cannot be both set/i,
  /not allowed/i,
];

const MACHINE_ERRORS = [/out of memory/i, /OutOfMemory/, /\bCUDA\b.*\berror\b/i, /cudaError/i, /driver/i];

/** Most error lines quoted in a message. */
const QUOTED = 8;

export function trtexecFailure(run: TrtexecRun, what: string): Error {
  const errors = run.log.errors;
  const quoted = errors.length > 0 ? errors.slice(0, QUOTED).join(' | ') : `no [E] line; last output: ${run.tail.slice(-5).join(' | ')}`;
  const more = errors.length > QUOTED ? ` (+${run.log.errorCount - QUOTED} more error lines in build.log)` : '';
  const status = run.signal ? `was ended by ${run.signal}` : `exited with status ${run.code}`;
  const message = `trtexec ${what} failed: it ${status}: ${quoted}${more}`;
  const machine = run.signal !== null || errors.some((e) => MACHINE_ERRORS.some((p) => p.test(e)));
  if (!machine && errors.some((e) => INPUT_ERRORS.some((p) => p.test(e)))) return new BuildInputError(message);
  return new Error(message);
}
