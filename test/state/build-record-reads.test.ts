/**
 * Reading a build record: every field it stores comes back, whatever else its hash holds, and the
 * request ids kept in the hash (one field per request that asked for the build) are not read with
 * it, so a build resubmitted many times costs no more to read than a new one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { BuildRecords } from '../../src/state/build-records';
import { redisKeys } from '../../src/state/redis';
import { deletePrefix, REDIS_URL } from '../helpers/farm';

const MODEL = createHash('sha256').update('model').digest('hex');
const spec = makeBuildSpec(MODEL, parseTargetKey('ort1.30.0-x86_64-avx2'), BuildOptionsSchema.parse({}));
const buildKey = buildKeyOf(spec);

describe('BuildRecords reads', () => {
  const prefix = `kr${randomBytes(5).toString('hex')}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  let builds: BuildRecords;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    builds = new BuildRecords(redis, keys);
  });
  afterEach(() => deletePrefix(prefix));
  afterAll(() => redis.quit());

  /** Bytes this connection received while `fn` ran: what Redis sent back. */
  const bytesReceived = async (fn: () => Promise<unknown>): Promise<number> => {
    const socket = (redis as unknown as { stream: Socket }).stream;
    const before = socket.bytesRead;
    await fn();
    return socket.bytesRead - before;
  };

  it('reads back every field a record stores, by get, getMany and ensure', async () => {
    await builds.ensure(spec, buildKey, 'queued');
    await builds.update(buildKey, {
      state: 'failed',
      phase: 'validate',
      percent: 60,
      startedAt: '2026-12-02T10:00:00.000Z',
      finishedAt: '2026-12-02T10:01:00.000Z',
      attempts: 2,
      worker: 'gpu-0',
      error: 'validation failed',
      inputError: true,
      cancelRequested: true,
      verdict: 'fail',
      publishedByThisBuild: false,
    });
    const record = await builds.get(buildKey);
    expect(record).toMatchObject({
      buildKey,
      modelId: MODEL,
      targetKey: 'ort1.30.0-x86_64-avx2',
      toolchain: 'onnxruntime',
      state: 'failed',
      phase: 'validate',
      percent: 60,
      spec,
      startedAt: '2026-12-02T10:00:00.000Z',
      finishedAt: '2026-12-02T10:01:00.000Z',
      attempts: 2,
      worker: 'gpu-0',
      error: 'validation failed',
      inputError: true,
      cancelRequested: true,
      verdict: 'fail',
      publishedByThisBuild: false,
    });
    expect(typeof record?.createdAt).toBe('string');
    expect(typeof record?.updatedAt).toBe('string');
    expect(await builds.getMany([buildKey])).toEqual([record]);
    expect((await builds.ensure(spec, buildKey, 'queued')).record).toEqual(record);
  });

  it('reads a record that kept its spec and report in the hash (written before they moved)', async () => {
    await builds.ensure(spec, buildKey, 'succeeded');
    const report = { note: 'a report kept in the hash' };
    await redis.hset(keys.build(buildKey), 'spec', JSON.stringify(spec), 'report', JSON.stringify(report));
    await redis.del(keys.buildSpec(buildKey));
    const record = await builds.get(buildKey);
    expect(record?.spec).toEqual(spec);
    expect(record?.report).toEqual(report);
  });

  it('costs the same to read however many requests asked for the build, and still lists them', async () => {
    await builds.ensure(spec, buildKey, 'succeeded');
    const once = await bytesReceived(() => builds.get(buildKey));
    const ids = Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const id of ids) await builds.addRequest(buildKey, id);
    const record = await builds.get(buildKey);
    expect(record).not.toHaveProperty(`request:${ids[0]}`);
    // A thousand request fields are ~50 KB; a record read must not carry them.
    expect(await bytesReceived(() => builds.get(buildKey))).toBeLessThan(once + 200);
    expect(await bytesReceived(() => builds.getMany([buildKey]))).toBeLessThan(once + 200);
    expect(await bytesReceived(() => builds.ensure(spec, buildKey, 'succeeded'))).toBeLessThan(once + 200);
    expect((await builds.requestIds(buildKey)).sort()).toEqual(ids);
  });
});
