/**
 * Errors that mean a dependency is down, not that Kiln has a bug: Redis unreachable or refusing
 * (loading, out of memory, read-only replica), storage unreachable, read-only or full. The API
 * answers them with 503, a Retry-After and a message naming what is down, instead of 500.
 */
import { StorageUnavailableError } from '../storage/errors';
import { ApiError } from './errors';

/** What a client is told to wait before trying again, in seconds. */
export const RETRY_AFTER_SECONDS = 10;

const REDIS_REFUSALS = /^(LOADING|OOM|MISCONF|READONLY|MASTERDOWN|BUSY|NOREPLICAS|CLUSTERDOWN|TRYAGAIN)\b/;
const REDIS_CONNECTION = /Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request limit/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export type Dependency = 'redis' | 'storage';

export interface Outage {
  dependency: Dependency;
  reason: string;
}

/** The outage an error reports, following `cause`s; null for any other error. */
export function outageOf(err: unknown, depth = 0): Outage | null {
  if (!err || typeof err !== 'object' || depth > 5) return null;
  if (err instanceof StorageUnavailableError) return { dependency: 'storage', reason: err.reason };
  const e = err as { name?: string; message?: string; code?: string; cause?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'MaxRetriesPerRequestError' || REDIS_CONNECTION.test(message)) return { dependency: 'redis', reason: 'not reachable' };
  if (e.name === 'ReplyError' && REDIS_REFUSALS.test(message)) return { dependency: 'redis', reason: message.split(' ')[0] };
  // Storage errors arrive as StorageUnavailableError (storage/guarded-store.ts): a bare network
  // error left here is Redis's, the only other connection the API makes.
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return { dependency: 'redis', reason: e.code };
  return outageOf(e.cause, depth + 1);
}

export function outageError(outage: Outage): ApiError {
  const what = outage.dependency === 'redis' ? 'Redis (queues, build records, indexes)' : 'Storage (models and artifacts)';
  return new ApiError(
    503,
    `${outage.dependency}_unavailable`,
    `${what} is unavailable (${outage.reason}), so this request could not be completed. Retry in ${RETRY_AFTER_SECONDS} s; /readyz says when Kiln is ready again`,
    { dependency: outage.dependency, retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}
