/**
 * A store whose failures say they are the storage's: every error that is not about the object
 * (NotFound, PreconditionFailed, Integrity, ... are StoreErrors and pass through unchanged) becomes
 * a StorageUnavailableError naming the operation and a reason safe to show (an errno code or an S3
 * error name, never a path), and is counted. The API answers those with 503 instead of 500.
 */
import type { Readable } from 'node:stream';
import type { AdoptOptions, ArtifactStore, ByteRange, GetResult, ObjectInfo, PutOptions } from './artifact-store';
import { StorageUnavailableError, StoreError } from './errors';

export type StorageErrorCounter = (operation: string) => void;

/** An errno code (EROFS, ENOSPC, ECONNREFUSED), an S3 error name (SlowDown, AccessDenied) or the status. */
export function storageFailureReason(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  const status = e?.$metadata?.httpStatusCode;
  if (typeof e?.name === 'string' && e.name !== 'Error' && e.name !== 'AggregateError') return status ? `${e.name} (HTTP ${status})` : e.name;
  if (e?.cause && e.cause !== err) return storageFailureReason(e.cause);
  if (Array.isArray((err as AggregateError)?.errors) && (err as AggregateError).errors.length) return storageFailureReason((err as AggregateError).errors[0]);
  // The SDK wraps network errors in plain Errors whose message still names the errno.
  const errno = /\b(E[A-Z]{3,})\b/.exec(String((err as Error)?.message ?? ''));
  return errno ? errno[1] : 'unknown error';
}

function guard(operation: string, count: StorageErrorCounter, err: unknown): never {
  if (err instanceof StoreError) throw err;
  count(operation);
  throw new StorageUnavailableError(operation, storageFailureReason(err), { cause: err });
}

export function guardStore(store: ArtifactStore, count: StorageErrorCounter): ArtifactStore {
  return {
    kind: store.kind,
    put: (key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<ObjectInfo> =>
      store.put(key, body, options).catch((err) => guard('put', count, err)),
    adopt: (key: string, file: string, options: AdoptOptions): Promise<ObjectInfo> => store.adopt(key, file, options).catch((err) => guard('put', count, err)),
    get: (key: string, range?: ByteRange): Promise<GetResult> => store.get(key, range).catch((err) => guard('get', count, err)),
    head: (key: string): Promise<ObjectInfo | null> => store.head(key).catch((err) => guard('head', count, err)),
    delete: (key: string): Promise<void> => store.delete(key).catch((err) => guard('delete', count, err)),
    presignedUrl: (key: string, seconds: number): Promise<string | null> =>
      store.presignedUrl(key, seconds).catch((err) => guard('presign', count, err)),
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      try {
        yield* store.list(prefix);
      } catch (err) {
        guard('list', count, err);
      }
    },
    sync: store.sync ? (keys: string[]) => store.sync!(keys).catch((err) => guard('sync', count, err)) : undefined,
    sweepTemp: store.sweepTemp ? (olderThanMs: number) => store.sweepTemp!(olderThanMs).catch((err) => guard('sweep', count, err)) : undefined,
    close: store.close ? () => store.close!() : undefined,
  };
}
