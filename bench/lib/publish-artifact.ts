/**
 * Publishes a CPU artifact set for a model the way a worker does (publishArtifactSet: files, then
 * the manifest; then the Redis index), without running a build: the bench measures serving, and
 * a real build of a 1 GiB model would take longer than the whole bench.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import type { Manifest } from '../../src/core/manifest';
import { BuildOptionsSchema } from '../../src/core/options';
import { parseTargetKey } from '../../src/core/target';
import { ArtifactIndex } from '../../src/state/artifact-index';
import { redisKeys } from '../../src/state/redis';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { artifactKey } from '../../src/storage/layout';
import { publishArtifactSet } from '../../src/storage/publish';

export interface PublishedSet {
  buildKey: string;
  manifest: Manifest;
  /** Store key of the primary file. */
  primaryKey: string;
}

export async function publishCpuArtifact(options: {
  store: ArtifactStore;
  redis: Redis;
  prefix: string;
  modelId: string;
  targetKey: string;
  /** The file published as the primary (the "optimised model"). */
  primaryFile: string;
  scratchDir: string;
}): Promise<PublishedSet> {
  const target = parseTargetKey(options.targetKey);
  // Default options, exactly as POST /v1/builds fills them in, so a resubmission finds this key.
  const spec = makeBuildSpec(options.modelId, target, BuildOptionsSchema.parse({}));
  const buildKey = buildKeyOf(spec);
  const report = path.join(options.scratchDir, 'report.json');
  const log = path.join(options.scratchDir, 'build.log');
  await writeFile(report, JSON.stringify({ note: 'written by npm run bench, not by a build' }));
  await writeFile(log, 'bench: published without a build\n');
  const primary = 'model.optimized.onnx';
  const { manifest } = await publishArtifactSet(options.store, {
    buildKey,
    files: [
      { name: primary, path: options.primaryFile, role: 'model' },
      { name: 'report.json', path: report, role: 'report' },
      { name: 'build.log', path: log, role: 'log' },
    ],
    makeManifest: (files) => ({
      schema: 1,
      buildKey,
      spec,
      primary,
      files,
      worker: { id: 'bench', host: os.hostname(), toolchains: target.toolchain === 'onnxruntime' ? { onnxruntime: target.ort } : ({} as Record<string, string>), hardware: {} },
      validation: 'pass',
      publishedAt: new Date().toISOString(),
      buildSeconds: 0,
    }),
  });
  await new ArtifactIndex(options.redis, redisKeys(options.prefix)).add(manifest);
  const file = manifest.files.find((f) => f.name === primary)!;
  return { buildKey, manifest, primaryKey: artifactKey(buildKey, file) };
}
