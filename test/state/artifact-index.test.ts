/**
 * Resolve reads one slot per (target, traits) of a model, not every artifact it ever had: the
 * slots must choose exactly what the ladder would have chosen from the full list.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest } from '../../src/core/manifest';
import { BuildOptionsSchema } from '../../src/core/options';
import { resolveArtifact } from '../../src/core/resolve';
import { parseTargetKey } from '../../src/core/target';
import { ArtifactIndex } from '../../src/state/artifact-index';
import { redisKeys } from '../../src/state/redis';
import { deletePrefix, REDIS_URL } from '../helpers/farm';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const MODEL = sha256('model');
const CPU = 'ort1.30.0-x86_64-avx2';

function manifest(tag: string, targetKey: string, publishedAt: string, validation: Manifest['validation'] = 'pass', options = {}): Manifest {
  const buildKey = sha256(tag);
  return {
    schema: 1,
    buildKey,
    spec: makeBuildSpec(MODEL, parseTargetKey(targetKey), BuildOptionsSchema.parse(options)),
    primary: 'model.optimized.onnx',
    files: [{ name: 'model.optimized.onnx', role: 'model', sha256: sha256(`file ${tag}`), size: 1 }],
    worker: { id: 'w', host: 'test', toolchains: {}, hardware: {} },
    validation,
    publishedAt,
    buildSeconds: 1,
  };
}

describe('ArtifactIndex slots', () => {
  const prefix = `kt${randomBytes(5).toString('hex')}`;
  const keys = redisKeys(prefix);
  let redis: Redis;
  let index: ArtifactIndex;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    index = new ArtifactIndex(redis, keys);
  });
  afterEach(() => deletePrefix(prefix));
  afterAll(() => redis.quit());

  it('keeps the newest usable artifact per target, whatever order they are indexed in', async () => {
    await index.add(manifest('b', CPU, '2026-12-02T10:00:00.000Z'));
    await index.add(manifest('c', CPU, '2026-12-02T12:00:00.000Z', 'fail'));
    await index.add(manifest('a', CPU, '2026-12-02T09:00:00.000Z'));
    await index.add(manifest('other', 'ort1.30.0-x86_64-avx512', '2026-12-02T08:00:00.000Z'));
    const candidates = await index.candidates(MODEL);
    expect(candidates.map((c) => c.buildKey).sort()).toEqual([sha256('b'), sha256('other')].sort());
    const all = await index.forModel(MODEL);
    expect(all).toHaveLength(4);
    const client = { kind: 'cpu' as const, targetKey: CPU };
    expect(resolveArtifact(client, candidates, null)).toEqual(resolveArtifact(client, all, null));
  });

  it('keeps one slot per TensorRT precision, so a client asking for fp16 still finds it', async () => {
    const trt = 'trt10.9.0-sm89';
    const target = parseTargetKey(trt);
    if (target.toolchain !== 'tensorrt') throw new Error('expected a TensorRT target');
    await index.add(manifest('fp16', trt, '2026-12-02T09:00:00.000Z', 'pass', { tensorrt: { precision: ['fp16'] } }));
    await index.add(manifest('default', trt, '2026-12-02T10:00:00.000Z'));
    const candidates = await index.candidates(MODEL);
    expect(candidates).toHaveLength(2);
    const client = { kind: 'gpu' as const, cc: target.cc, trt: target.trt, precision: 'fp16' };
    expect(resolveArtifact(client, candidates, null).artifact?.buildKey).toBe(sha256('fp16'));
  });

  it('falls back to the next newest when the slot artifact is removed', async () => {
    await index.add(manifest('old', CPU, '2026-12-02T09:00:00.000Z'));
    await index.add(manifest('new', CPU, '2026-12-02T10:00:00.000Z'));
    await index.remove(MODEL, sha256('new'));
    expect((await index.candidates(MODEL)).map((c) => c.buildKey)).toEqual([sha256('old')]);
    await index.remove(MODEL, sha256('old'));
    expect(await index.candidates(MODEL)).toEqual([]);
  });

  it('fills the slots of a model indexed before slots existed from its full list', async () => {
    await index.add(manifest('old', CPU, '2026-12-02T09:00:00.000Z'));
    await index.add(manifest('new', CPU, '2026-12-02T10:00:00.000Z'));
    await redis.del(keys.publishedSlots(MODEL));
    expect((await index.candidates(MODEL)).map((c) => c.buildKey)).toEqual([sha256('new')]);
    expect(await redis.hlen(keys.publishedSlots(MODEL))).toBe(1);
  });
});
