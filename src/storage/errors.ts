export class StoreError extends Error {
  override name = 'StoreError';
}

export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
  constructor(readonly key: string) {
    super(`No object at ${key}`);
  }
}

export class PreconditionFailedError extends StoreError {
  override name = 'PreconditionFailedError';
  constructor(readonly key: string, condition: string) {
    super(`Precondition failed for ${key}: ${condition}`);
  }
}

export class IntegrityError extends StoreError {
  override name = 'IntegrityError';
}

export class RangeNotSatisfiableError extends StoreError {
  override name = 'RangeNotSatisfiableError';
  constructor(readonly key: string, readonly size: number) {
    super(`Range not satisfiable for ${key} (size ${size})`);
  }
}

/** A key (or prefix) outside the syntax every backend accepts alike; see key-rules.ts. */
export class InvalidKeyError extends StoreError {
  override name = 'InvalidKeyError';
}

/**
 * The store could not do what was asked for a reason of its own (unreachable, read-only, full,
 * refusing), not because of the object's state. `reason` is safe to show a client: an error code
 * or an S3 error name, never a server path.
 */
export class StorageUnavailableError extends StoreError {
  override name = 'StorageUnavailableError';
  constructor(
    readonly operation: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Storage is unavailable (${operation} failed: ${reason})`, options);
  }
}
