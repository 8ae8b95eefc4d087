/**
 * Builds finished per hour: counters kept by BuildRecords as builds finish, are retried and are
 * removed, always equal to what the records say; and filled once from records made before them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { BuildRecords, type BuildState } from '../../src/state/build-records';
import type { HourBucket } from '../../src/state/finished-per-hour';
import { redisKeys } from '../../src/state/redis';
import { deletePrefix, REDIS_URL } from '../helpers/farm';

const HOUR = 3_600_000;
const MODEL = createHash('sha256').update('model').digest('hex');
const TARGET = 'ort1.30.0-x86_64-avx2';

describe('BuildRecords.finishedPerHour', () => {
  const prefix = `kf${randomBytes(5).toString('hex')}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  let builds: BuildRecords;
  let seed = 0;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    builds = new BuildRecords(redis, keys);
  });
  afterEach(() => deletePrefix(prefix));
  afterAll(() => redis.quit());

  const now = Date.now();
  const hoursAgo = (h: number) => new Date(now - h * HOUR).toISOString();

  /** A recorded build that ended `state` at `finishedAt`. */
  const finished = async (state: BuildState, finishedAt?: string) => {
    const spec = makeBuildSpec(MODEL, parseTargetKey(TARGET), BuildOptionsSchema.parse({ validation: { seed: ++seed } }));
    const buildKey = buildKeyOf(spec);
    await builds.ensure(spec, buildKey, 'queued');
    await builds.update(buildKey, { state: 'active', startedAt: hoursAgo(30) });
    await builds.update(buildKey, { state, ...(finishedAt ? { finishedAt } : {}) });
    return { buildKey, modelId: MODEL, targetKey: TARGET };
  };

  /** What the chart showed before the counters: every record read, bucketed by finishedAt. */
  const fromRecords = async (): Promise<HourBucket[]> => {
    const firstHour = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
    const buckets = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(firstHour + i * HOUR).toISOString(), succeeded: 0, failed: 0, cancelled: 0 }));
    for (const b of await builds.getMany(await redis.zrange(keys.buildsAll, '0', '-1'))) {
      if (!b.finishedAt || (b.state !== 'succeeded' && b.state !== 'failed' && b.state !== 'cancelled')) continue;
      const i = Math.floor((Date.parse(b.finishedAt) - firstHour) / HOUR);
      if (i >= 0 && i < 24) buckets[i][b.state]++;
    }
    return buckets;
  };
  const nonZero = (buckets: HourBucket[]) => buckets.filter((b) => b.succeeded + b.failed + b.cancelled > 0);

  it('counts finishes by hour and final state, and undoes them on retry and removal', async () => {
    expect(nonZero(await builds.finishedPerHour(now))).toEqual([]); // starts counting (nothing to fill)
    const a = await finished('succeeded', hoursAgo(0));
    await finished('succeeded', hoursAgo(0));
    await finished('failed', hoursAgo(3));
    const c = await finished('cancelled', hoursAgo(23));
    await finished('succeeded', hoursAgo(30)); // before the chart's day
    await finished('succeeded'); // marked succeeded without a finish time (a resubmission of a published build)
    const counted = await builds.finishedPerHour(now);
    expect(counted).toEqual(await fromRecords());
    expect(counted).toHaveLength(24);
    expect(counted[23]).toMatchObject({ succeeded: 2, failed: 0, cancelled: 0 });
    expect(counted[20]).toMatchObject({ succeeded: 0, failed: 1, cancelled: 0 });
    expect(counted[0]).toMatchObject({ succeeded: 0, failed: 0, cancelled: 1 });

    expect(await builds.requeueIfFinished(a.buildKey)).toBe(true); // a retry: no longer finished
    await builds.remove(c);
    const after = await builds.finishedPerHour(now);
    expect(after).toEqual(await fromRecords());
    expect(after[23].succeeded).toBe(1);
    expect(after[0].cancelled).toBe(0);

    // Finishing again counts in the new hour; a state change of a finished build moves its count.
    await builds.update(a.buildKey, { state: 'failed', finishedAt: hoursAgo(1) });
    expect((await builds.finishedPerHour(now))[22]).toMatchObject({ succeeded: 0, failed: 1 });
    await builds.update(a.buildKey, { state: 'succeeded' });
    const moved = await builds.finishedPerHour(now);
    expect(moved).toEqual(await fromRecords());
    expect(moved[22]).toMatchObject({ succeeded: 1, failed: 0 });
    expect(await redis.hlen(keys.buildsFinishedPerHour)).toBeLessThan(10);
  });

  it('fills once from builds recorded before the counters existed, then counts new finishes once', async () => {
    await finished('succeeded', hoursAgo(2));
    await finished('failed', hoursAgo(5));
    const retried = await finished('cancelled', hoursAgo(5));
    // Without the counters' `since`, finishes are not counted: as on a Redis the older code wrote.
    expect(await redis.exists(keys.buildsFinishedPerHour)).toBe(0);
    const filled = await builds.finishedPerHour(now);
    expect(filled).toEqual(await fromRecords());
    expect(filled[21].succeeded).toBe(1);
    expect(filled[18]).toMatchObject({ failed: 1, cancelled: 1 });

    await finished('succeeded', hoursAgo(2));
    await builds.requeueIfFinished(retried.buildKey);
    const later = await builds.finishedPerHour(now);
    expect(later).toEqual(await fromRecords());
    expect(later[21].succeeded).toBe(2);
    expect(later[18]).toMatchObject({ failed: 1, cancelled: 0 });
  });

  it('never counts below zero for a finish it did not count', async () => {
    const b = await finished('failed', hoursAgo(1));
    await redis.hset(keys.buildsFinishedPerHour, 'since', new Date(now).toISOString()); // counting began after this finish
    await builds.remove(b);
    expect(nonZero(await builds.finishedPerHour(now))).toEqual([]);
    expect(await redis.hkeys(keys.buildsFinishedPerHour)).toEqual(['since']);
  });
});
