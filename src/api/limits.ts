/**
 * Per-token rate limits and quotas, kept in the farm's Redis with rate-limiter-flexible so every
 * API process counts the same: requests per second, builds queued per hour, builds queued or
 * running at once, and bytes uploaded. Each refusal is a 429 with Retry-After and a message that
 * names the limit, its setting and when to come back. A limit set to 0 is off.
 *
 * The per-second limit falls back to counting in this process's memory while Redis is down (its
 * insurance limiter), so an outage does not turn every request into a rate-limiter error.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { FarmContext } from '../context';
import type { Caller } from './auth';
import { ApiError } from './errors';

const HOUR_S = 3600;
/** A token at its concurrency quota is told to come back after this long (a build may have finished). */
const CONCURRENT_RETRY_S = 30;

export function tooMany(message: string, retryAfterSeconds: number, limit: string): ApiError {
  return new ApiError(429, 'rate_limited', message, { limit, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class Limits {
  private readonly perSecond: RateLimiterRedis | null;
  private readonly perHour: RateLimiterRedis | null;

  constructor(private readonly ctx: FarmContext) {
    const { limits } = ctx.config;
    this.perSecond =
      limits.requestsPerSecond > 0
        ? new RateLimiterRedis({
            storeClient: ctx.redis,
            keyPrefix: ctx.keys.rateLimit('rps'),
            points: limits.requestsPerSecond,
            duration: 1,
            insuranceLimiter: new RateLimiterMemory({ points: limits.requestsPerSecond, duration: 1 }),
          })
        : null;
    this.perHour =
      limits.buildsPerHour > 0
        ? new RateLimiterRedis({ storeClient: ctx.redis, keyPrefix: ctx.keys.rateLimit('builds-hour'), points: limits.buildsPerHour, duration: HOUR_S })
        : null;
  }

  /** One request of `caller`; 429 past KILN_RATE_LIMIT_RPS. */
  async request(caller: Caller): Promise<void> {
    if (!this.perSecond) return;
    try {
      await this.perSecond.consume(caller.tokenId);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw tooMany(
        `Too many requests: this token may make ${this.ctx.config.limits.requestsPerSecond} per second (KILN_RATE_LIMIT_RPS); retry in ${seconds(err.msBeforeNext)} s`,
        err.msBeforeNext / 1000,
        'requests_per_second',
      );
    }
  }

  /**
   * Admits `count` new builds for `caller`, before anything is queued: 429 when they would pass
   * the builds-per-hour or the concurrent-builds quota. Builds that are cached or joined are not
   * counted: they cost the farm nothing.
   */
  async admitBuilds(caller: Caller, count: number): Promise<void> {
    if (count === 0) return;
    const { concurrentBuilds, buildsPerHour } = this.ctx.config.limits;
    if (concurrentBuilds > 0) {
      const running = await this.openBuilds(caller);
      if (running + count > concurrentBuilds) {
        throw tooMany(
          `Too many builds at once: this token has ${running} queued or running and asked for ${count} more; the quota is ${concurrentBuilds} (KILN_QUOTA_CONCURRENT_BUILDS). Retry when some have finished`,
          CONCURRENT_RETRY_S,
          'concurrent_builds',
        );
      }
    }
    if (this.perHour) {
      try {
        await this.perHour.consume(caller.tokenId, count);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        // A refused request must not use up the quota it was refused for.
        await this.perHour.reward(caller.tokenId, count).catch(() => undefined);
        const used = Math.max(0, err.consumedPoints - count);
        throw tooMany(
          `Too many builds this hour: this token queued ${used} and asked for ${count} more; the quota is ${buildsPerHour} per hour (KILN_QUOTA_BUILDS_PER_HOUR); retry in ${seconds(err.msBeforeNext)} s`,
          err.msBeforeNext / 1000,
          'builds_per_hour',
        );
      }
    }
  }

  /** Records builds `caller` queued, for its concurrency quota. */
  async recordBuilds(caller: Caller, buildKeys: string[]): Promise<void> {
    if (buildKeys.length === 0 || this.ctx.config.limits.concurrentBuilds === 0) return;
    const key = this.ctx.keys.tokenBuilds(caller.tokenId);
    const now = Date.now();
    await this.ctx.redis.zadd(key, ...buildKeys.flatMap((id) => [String(now), id]));
  }

  /** The caller's builds still queued or running; finished ones are dropped from its set. */
  private async openBuilds(caller: Caller): Promise<number> {
    const key = this.ctx.keys.tokenBuilds(caller.tokenId);
    const ids = await this.ctx.redis.zrange(key, '0', '-1');
    if (ids.length === 0) return 0;
    const states = statesOf(await this.ctx.builds.getMany(ids));
    const done = ids.filter((id) => states.get(id) !== 'queued' && states.get(id) !== 'active');
    if (done.length) await this.ctx.redis.zrem(key, ...done);
    return ids.length - done.length;
  }

  /**
   * 429 when storing `bytes` more would pass the caller's KILN_QUOTA_STORED_BYTES. `before`: the
   * upload may turn out to be a file already stored, so only a token at its quota, or a size past
   * the whole quota, is refused.
   */
  async checkStoredBytes(caller: Caller, bytes: number, options: { before?: boolean } = {}): Promise<void> {
    const quota = this.ctx.config.limits.storedBytes;
    if (quota === 0) return;
    const used = Number((await this.ctx.redis.hget(this.ctx.keys.tokenStoredBytes, caller.tokenId)) ?? 0);
    const over = options.before ? used >= quota || bytes > quota : used + bytes > quota;
    if (over) {
      throw tooMany(
        `Storage quota reached: this token stored ${used} bytes and this upload is ${bytes} more; the quota is ${quota} bytes (KILN_QUOTA_STORED_BYTES)`,
        HOUR_S,
        'stored_bytes',
      );
    }
  }

  /** Counts a newly stored file against the caller's quota (a file already stored is not counted again). */
  async recordStored(caller: Caller | undefined, bytes: number): Promise<void> {
    if (!caller || bytes <= 0) return;
    await this.ctx.redis.hincrby(this.ctx.keys.tokenStoredBytes, caller.tokenId, String(bytes));
  }
}

/** HINCRBY by -ARGV[2], never below 0. */
const RELEASE_BYTES = `local v = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if v < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
return 1`;

/** A deleted file no longer counts against the quota of the token that stored it. */
export async function releaseStored(ctx: FarmContext, tokenId: string | undefined, bytes: number): Promise<void> {
  if (!tokenId || bytes <= 0) return;
  await ctx.redis.eval(RELEASE_BYTES, 1, ctx.keys.tokenStoredBytes, tokenId, bytes);
}

function statesOf(records: { buildKey: string; state: string }[]): Map<string, string> {
  return new Map(records.map((r) => [r.buildKey, r.state]));
}

/** The quota hooks of one caller's submission (see submitRequest). */
export function submitQuota(limits: Limits, caller: Caller): { admit(count: number): Promise<void>; queued(ids: string[]): Promise<void> } {
  return { admit: (count) => limits.admitBuilds(caller, count), queued: (ids) => limits.recordBuilds(caller, ids) };
}

/**
 * Dashboard sign-in attempts per client address: after KILN_SIGN_IN_ATTEMPTS failures in 15
 * minutes the address is refused (429) until the window ends; a successful sign-in clears it.
 */
export class SignInLimiter {
  private readonly failures: RateLimiterRedis;

  constructor(private readonly ctx: FarmContext) {
    this.failures = new RateLimiterRedis({
      storeClient: ctx.redis,
      keyPrefix: ctx.keys.rateLimit('sign-in'),
      points: ctx.config.limits.signInAttempts,
      duration: 15 * 60,
    });
  }

  /** 429 when this address used up its failed attempts. */
  async check(address: string): Promise<void> {
    const res = await this.failures.get(address);
    if (res && res.consumedPoints >= this.ctx.config.limits.signInAttempts) {
      throw tooMany(
        `Too many failed sign-ins from this address (${this.ctx.config.limits.signInAttempts} per 15 minutes, KILN_SIGN_IN_ATTEMPTS); try again in ${seconds(res.msBeforeNext)} s`,
        res.msBeforeNext / 1000,
        'sign_in_attempts',
      );
    }
  }

  async failed(address: string): Promise<void> {
    await this.failures.penalty(address, 1);
  }

  async succeeded(address: string): Promise<void> {
    await this.failures.delete(address);
  }
}
