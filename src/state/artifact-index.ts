/**
 * The published-artifact index: per model, the build keys whose artifact sets are published, with
 * the few manifest facts resolve needs. It is only an index: the manifests in storage are the
 * truth, and `rebuild()` recreates it from them.
 */
import type { Redis } from 'ioredis';
import type { Manifest } from '../core/manifest';
import { summarize, type PublishedArtifact } from '../core/published-artifact';

export type { PublishedArtifact };
import type { ArtifactStore } from '../storage/artifact-store';
import { readJson } from '../storage/read-json';
import type { RedisKeys } from './redis';

export class ArtifactIndex {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  async add(manifest: Manifest): Promise<PublishedArtifact> {
    const summary = summarize(manifest);
    await this.redis.hset(this.keys.published(summary.modelId), summary.buildKey, JSON.stringify(summary));
    return summary;
  }

  async get(modelId: string, buildKey: string): Promise<PublishedArtifact | null> {
    const json = await this.redis.hget(this.keys.published(modelId), buildKey);
    return json ? (JSON.parse(json) as PublishedArtifact) : null;
  }

  async forModel(modelId: string): Promise<PublishedArtifact[]> {
    const all = await this.redis.hvals(this.keys.published(modelId));
    return all.map((json) => JSON.parse(json) as PublishedArtifact);
  }

  async remove(modelId: string, buildKey: string): Promise<void> {
    await this.redis.hdel(this.keys.published(modelId), buildKey);
  }

  /** Recreates the index from the manifests in storage. Returns how many were indexed. */
  async rebuild(store: ArtifactStore): Promise<number> {
    let count = 0;
    for await (const object of store.list('builds/')) {
      if (!object.key.endsWith('/manifest.json')) continue;
      const manifest = await readJson<Manifest>(store, object.key);
      if (!manifest) continue;
      await this.add(manifest);
      count++;
    }
    await this.redis.set(this.keys.indexBuilt, new Date().toISOString());
    return count;
  }

  /** Rebuilds once per Redis: on a fresh (or flushed) Redis the index is recreated at start. */
  async ensureBuilt(store: ArtifactStore): Promise<void> {
    if (!(await this.redis.exists(this.keys.indexBuilt))) await this.rebuild(store);
  }
}
