import { BuildInputError } from '../build-input-error';

/**
 * An option this worker's TensorRT (or its GPU) does not accept, or a value that could smuggle an
 * argument into trtexec. Raised before trtexec runs; retrying on the same worker will not help.
 */
export class TrtOptionError extends BuildInputError {
  override name = 'TrtOptionError';
}

/** An engine file whose header is not what this worker's TensorRT writes: never published. */
export class PlanHeaderError extends Error {
  override name = 'PlanHeaderError';
}
