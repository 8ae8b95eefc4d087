/**
 * When each phase of a build started. Build records keep only the current phase, so the
 * dashboard listens to the farm-wide event channel and notes, per build, the first time it saw
 * each phase (a small hash with a TTL). Every API process may record; the writes are idempotent
 * (HSETNX, and a new attempt resets the hash only once per `active` event), so several agree.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../log';
import type { BuildEvent } from '../../state/build-events';
import type { RedisKeys } from '../../state/redis';
import type { EventHub } from '../event-hub';

/** Timelines are kept this long after their last change. */
const KEEP_MS = 30 * 24 * 3600 * 1000;

// A new attempt starts a new timeline; the same `active` event seen by another process changes nothing.
const START_ATTEMPT = `
if redis.call('HGET', KEYS[1], 'active') == ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'active', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export function phasesKey(prefix: string, buildKey: string): string {
  return `${prefix}:dashboard:phases:${buildKey}`;
}

export async function recordEvent(redis: Redis, prefix: string, event: BuildEvent): Promise<void> {
  const key = phasesKey(prefix, event.buildKey);
  if (event.type === 'state' && event.state === 'active') {
    await redis.eval(START_ATTEMPT, 1, key, event.at, KEEP_MS);
  } else if (event.type === 'progress') {
    await redis.multi().hsetnx(key, event.phase, event.at).pexpire(key, KEEP_MS).exec();
  } else if (event.type === 'state') {
    await redis.multi().hsetnx(key, event.state, event.at).pexpire(key, KEEP_MS).exec();
  }
}

/** Phase (or state) -> when it was first seen in the current attempt. */
export async function readPhases(redis: Redis, prefix: string, buildKey: string): Promise<Record<string, string>> {
  return redis.hgetall(phasesKey(prefix, buildKey));
}

/** Starts recording; the subscription ends when the hub closes. */
export function startPhaseRecorder(hub: EventHub, redis: Redis, keys: RedisKeys, prefix: string, log: Logger): Promise<() => void> {
  return hub.subscribe(keys.allEvents, (event) => {
    recordEvent(redis, prefix, event).catch((err: Error) => log.warn({ err, buildKey: event.buildKey }, `dashboard: recording ${event.type} failed`));
  });
}
