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
