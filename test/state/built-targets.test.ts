/** The set of built target keys: kept as builds are recorded, and filled once by a SCAN for builds recorded before it existed. */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { BuildRecords } from '../../src/state/build-records';
import { redisKeys } from '../../src/state/redis';
import { deletePrefix, REDIS_URL } from '../helpers/farm';

const MODEL = createHash('sha256').update('model').digest('hex');
const spec = (targetKey: string, seed = 1) => makeBuildSpec(MODEL, parseTargetKey(targetKey), BuildOptionsSchema.parse({ validation: { seed } }));

describe('BuildRecords.builtTargets', () => {
  const prefix = `kt${randomBytes(5).toString('hex')}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  let builds: BuildRecords;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    builds = new BuildRecords(redis, keys);
  });
  afterEach(() => deletePrefix(prefix));
  afterAll(() => redis.quit());

  const record = async (targetKey: string, seed = 1) => {
    const s = spec(targetKey, seed);
    await builds.ensure(s, buildKeyOf(s), 'queued');
  };

  it('lists every target a build was recorded for, once, without a SCAN after the first call', async () => {
    expect(await builds.builtTargets()).toEqual([]);
    await record('ort1.30.0-x86_64-avx2');
    await record('ort1.30.0-x86_64-avx2', 2);
    await record('ort1.30.0-x86_64-avx512');
    expect((await builds.builtTargets()).sort()).toEqual(['ort1.30.0-x86_64-avx2', 'ort1.30.0-x86_64-avx512']);
    // A per-target index the set does not name is not found: the list comes from the set alone.
    await redis.zadd(keys.buildsByTarget('ort1.30.0-x86_64-sse4'), 1, 'x');
    expect(await builds.builtTargets()).not.toContain('ort1.30.0-x86_64-sse4');
  });

  it('finds targets of builds recorded before the set existed, once, beside new ones', async () => {
    await record('ort1.30.0-x86_64-avx2');
    await redis.del(keys.builtTargets, keys.builtTargetsIndexed); // as Redis was before the set
    await record('ort1.30.0-x86_64-avx512');
    expect((await builds.builtTargets()).sort()).toEqual(['ort1.30.0-x86_64-avx2', 'ort1.30.0-x86_64-avx512']);
    expect(await redis.smembers(keys.builtTargets)).toHaveLength(2);
  });
});
