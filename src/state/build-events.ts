/**
 * Build events travel over Redis pub/sub: workers publish, the API fans them out as Server-Sent
 * Events. Log lines are also kept in a capped Redis list so a late subscriber (or `GET .../log`
 * while the build runs) sees what it missed; the whole log is published with the artifact set.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis';
import type { BuildState } from './build-records';

export type BuildEvent =
  /** `waiting`: why a queued build waits (src/api/waiting.ts), on the state a stream starts with. */
  | { type: 'state'; buildKey: string; state: BuildState; error?: string; waiting?: string; at: string }
  | { type: 'progress'; buildKey: string; phase: string; percent: number; at: string }
  | { type: 'log'; buildKey: string; line: string; at: string };

/** Lines kept in Redis per build while it runs (the full log goes to storage). */
export const LOG_LINES_KEPT = 5000;

export async function publishEvent(redis: Redis, keys: RedisKeys, event: BuildEvent): Promise<void> {
  const json = JSON.stringify(event);
  const multi = redis.multi();
  if (event.type === 'log') {
    multi.rpush(keys.buildLog(event.buildKey), event.line).ltrim(keys.buildLog(event.buildKey), -LOG_LINES_KEPT, -1);
  }
  multi.publish(keys.events(event.buildKey), json);
  // The farm-wide channel carries state and progress (not log lines) for dashboards.
  if (event.type !== 'log') multi.publish(keys.allEvents, json);
  await multi.exec();
}

/**
 * How long a build's Redis log lines outlive the published build.log: long enough for a watcher that
 * arrives late to replay them, short enough that Redis does not keep every build's log forever
 * (readers fall back to the published file).
 */
export const LOG_KEPT_AFTER_PUBLISH_SECONDS = 10 * 60;

/** The build's log is in storage now: its Redis copy expires (docs/performance.md). */
export async function expireLogLines(redis: Redis, keys: RedisKeys, buildKey: string): Promise<void> {
  await redis.expire(keys.buildLog(buildKey), LOG_KEPT_AFTER_PUBLISH_SECONDS);
}

export async function readLogLines(redis: Redis, keys: RedisKeys, buildKey: string): Promise<string[]> {
  return redis.lrange(keys.buildLog(buildKey), 0, -1);
}
