/**
 * Builds finished per hour, by final state: counters kept as builds finish, so the dashboard's
 * chart of the last day costs O(hours) however many builds the farm has recorded.
 *
 * One Redis hash holds `<hour>|<state>` -> count, where `<hour>` is the first 13 characters of
 * the build's `finishedAt` (`2026-12-02T17`: ISO 8601 UTC strings sort and cut as text, so Lua
 * needs no date parsing). The invariant: each count is the number of build records whose state is
 * that final state and whose finishedAt falls in that hour. BuildRecords keeps it in the same Lua
 * script as each change of state or finishedAt (a finish, a retry that clears it, a removal), so
 * a record and its count never disagree. Hours older than the chart's day (plus slack for clocks)
 * are not counted and are pruned, so the hash stays under ~100 fields.
 *
 * Counting starts when the hash is first filled from the records (field `since`, once per Redis
 * dataset): until then the scripts leave it alone, so a build finishing while it is filled is
 * counted exactly once.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis';

const HOUR = 3_600_000;
/** Hours the chart shows: the current one and the 23 before it. */
export const CHART_HOURS = 24;
/** Hours counted: the chart's day, plus two for API processes whose clocks disagree a little. */
const COUNTED_HOURS = CHART_HOURS + 2;
/** Builds created this long ago or less are read when the counters are first filled (what the chart read before they existed). */
const FILL_FROM_CREATED_MS = 48 * HOUR;
/** The hash is pruned of uncounted hours once it holds more fields than this (3 states x hours, and `since`). */
const PRUNE_ABOVE_FIELDS = 3 * (COUNTED_HOURS + 4) + 1;

export const FINAL_STATES = ['succeeded', 'failed', 'cancelled'] as const;
export type FinalState = (typeof FINAL_STATES)[number];

export interface HourBucket {
  /** Start of the hour (ISO 8601). */
  hour: string;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/**
 * Lua: `countFinished(counts, state, finishedAt, oldestHour, by)` adds `by` (1 or -1) to the count
 * of a record's (hour, state) when the record counts (final state, finishedAt in a counted hour)
 * and counting has started. A count never goes below zero, and reaching zero removes the field.
 */
export const COUNT_FINISHED_LUA = `local function countFinished(counts, state, finishedAt, oldestHour, by)
  if not finishedAt or (state ~= 'succeeded' and state ~= 'failed' and state ~= 'cancelled') then return end
  local hour = string.sub(finishedAt, 1, 13)
  if hour < oldestHour or redis.call('HEXISTS', counts, 'since') == 0 then return end
  local field = hour .. '|' .. state
  if by > 0 then
    redis.call('HINCRBY', counts, field, by)
    if redis.call('HLEN', counts) > ${PRUNE_ABOVE_FIELDS} then
      for _, f in ipairs(redis.call('HKEYS', counts)) do
        if f ~= 'since' and string.sub(f, 1, 13) < oldestHour then redis.call('HDEL', counts, f) end
      end
    end
  elseif tonumber(redis.call('HGET', counts, field) or '0') <= -by then
    redis.call('HDEL', counts, field)
  else
    redis.call('HINCRBY', counts, field, by)
  end
end
`;

/**
 * Fills the counters from the records, once: KEYS[1] the counts, KEYS[2..4] the succeeded, failed
 * and cancelled indexes; ARGV[1] the lowest creation score read, ARGV[2] the oldest counted hour,
 * ARGV[3] the build hash key prefix, ARGV[4] now. One script, so no finish lands between the read
 * and the start of counting. It reads build hashes it is not handed as KEYS (they are only known
 * inside it), which a single Redis allows and Kiln's Redis is.
 */
const FILL = `${COUNT_FINISHED_LUA}
if redis.call('HEXISTS', KEYS[1], 'since') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'since', ARGV[4])
local counted = 0
for i = 2, 4 do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[1], '+inf')) do
    local r = redis.call('HMGET', ARGV[3] .. id, 'state', 'finishedAt')
    if r[1] and r[2] then
      countFinished(KEYS[1], r[1], r[2], ARGV[2], 1)
      counted = counted + 1
    end
  end
end
return counted`;

/** The oldest hour a finish is counted in, as the counters name hours (`2026-12-02T17`). */
export function oldestCountedHour(now = Date.now()): string {
  return new Date(now - (COUNTED_HOURS - 1) * HOUR).toISOString().slice(0, 13);
}

export class FinishedPerHour {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  /** Builds that reached each final state per hour over the last 24 hours (by finishedAt), oldest hour first. */
  async lastDay(now = Date.now()): Promise<HourBucket[]> {
    const firstHour = Math.floor(now / HOUR) * HOUR - (CHART_HOURS - 1) * HOUR;
    const hours = Array.from({ length: CHART_HOURS }, (_, i) => new Date(firstHour + i * HOUR).toISOString());
    const fields = hours.flatMap((hour) => FINAL_STATES.map((state) => `${hour.slice(0, 13)}|${state}`));
    let values = await this.redis.hmget(this.keys.buildsFinishedPerHour, 'since', ...fields);
    if (values[0] === null) {
      await this.fill(now);
      values = await this.redis.hmget(this.keys.buildsFinishedPerHour, 'since', ...fields);
    }
    return hours.map((hour, i) => {
      const [succeeded, failed, cancelled] = FINAL_STATES.map((_, s) => Number(values[1 + i * FINAL_STATES.length + s] ?? 0));
      return { hour, succeeded, failed, cancelled };
    });
  }

  /**
   * Counts the finished builds recorded before the counters existed: those created in the last
   * 48 hours, which is what the chart read from the records before. Once per Redis dataset.
   */
  private async fill(now: number): Promise<void> {
    await this.redis.eval(
      FILL,
      1 + FINAL_STATES.length,
      this.keys.buildsFinishedPerHour,
      ...FINAL_STATES.map((s) => this.keys.buildsByState(s)),
      (now - FILL_FROM_CREATED_MS) * 1000, // index scores are creation ms x 1000
      oldestCountedHour(now),
      this.keys.build(''),
      new Date(now).toISOString(),
    );
  }
}
