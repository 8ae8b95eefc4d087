/** Checks on PutOptions shared by every store, so they fail alike whatever the backend. */
import type { PutOptions } from './artifact-store';
import { PreconditionFailedError, StoreError } from './errors';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function assertValidPutOptions(key: string, options: PutOptions): void {
  const { ifNoneMatch, ifMatch } = options;
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') {
    throw new StoreError(`Expected ifNoneMatch '*' for ${key} but received ${JSON.stringify(ifNoneMatch)}`);
  }
  if (ifMatch !== undefined && (typeof ifMatch !== 'string' || ifMatch === '')) {
    throw new StoreError(`Expected ifMatch to be an etag for ${key} but received ${JSON.stringify(ifMatch)}`);
  }
  if (ifNoneMatch !== undefined && ifMatch !== undefined) {
    throw new StoreError(`Expected at most one of ifNoneMatch and ifMatch for ${key} but received both`);
  }
}

export function preconditionFailed(key: string, options: PutOptions): PreconditionFailedError {
  return new PreconditionFailedError(
    key,
    options.ifNoneMatch ? 'If-None-Match: * (the key already exists)' : `If-Match: ${options.ifMatch} (the key is absent or its etag differs)`,
  );
}
