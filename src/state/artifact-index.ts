/**
 * The published-artifact index: per model, the build keys whose artifact sets are published, with
 * the few manifest facts resolve needs. It is only an index: the manifests in storage are the
 * truth, and `rebuild()` recreates it from them.
 *
 * Beside it, per model, the slots resolve reads: one per (target key, traits), holding the newest
 * artifact of that slot that did not fail validation. Every rung of the ladder (core/resolve.ts)
 * chooses by target and traits, newest first, so the newest of a slot always beats the rest of
 * it, and resolve reads O(targets) entries instead of every artifact ever published for the model
 * (5,000 builds of one model made resolve 12x slower: docs/performance.md).
 */
import type { Redis } from 'ioredis';
import { canonicalJson } from '../core/canonical-json';
import type { Manifest } from '../core/manifest';
import { parseTargetKey, type Target } from '../core/target';
import { summarize, type PublishedArtifact } from '../core/published-artifact';

export type { PublishedArtifact };
import type { ArtifactStore } from '../storage/artifact-store';
import { readJson } from '../storage/read-json';
import type { RedisKeys } from './redis';

export class ArtifactIndex {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  async add(manifest: Manifest): Promise<PublishedArtifact> {
    const summary = summarize(manifest);
    const json = JSON.stringify(summary);
    await this.redis.hset(this.keys.published(summary.modelId), summary.buildKey, JSON.stringify(stored(summary)));
    if (summary.validation !== 'fail') {
      await this.redis.eval(KEEP_NEWEST, 1, this.keys.publishedSlots(summary.modelId), slotOf(summary), summary.publishedAt, json);
    }
    return summary;
  }

  /**
   * What resolve chooses from: the newest usable artifact of each slot of the model. A model indexed
   * before slots existed gets them from its full list on first use.
   */
  async candidates(modelId: string): Promise<PublishedArtifact[]> {
    const slots = await this.redis.hvals(this.keys.publishedSlots(modelId));
    if (slots.length) return slots.map((json) => JSON.parse(json) as PublishedArtifact);
    const all = await this.forModel(modelId);
    const best = newestPerSlot(all);
    if (best.size) await this.redis.hset(this.keys.publishedSlots(modelId), Object.fromEntries([...best].map(([slot, a]) => [slot, JSON.stringify(a)])));
    return [...best.values()];
  }

  async get(modelId: string, buildKey: string): Promise<PublishedArtifact | null> {
    const json = await this.redis.hget(this.keys.published(modelId), buildKey);
    return json ? restored(modelId, buildKey, json) : null;
  }

  async forModel(modelId: string): Promise<PublishedArtifact[]> {
    const all = await this.redis.hgetall(this.keys.published(modelId));
    return Object.entries(all).map(([buildKey, json]) => restored(modelId, buildKey, json));
  }

  async remove(modelId: string, buildKey: string): Promise<void> {
    const removed = await this.get(modelId, buildKey);
    await this.redis.hdel(this.keys.published(modelId), buildKey);
    if (!removed) return;
    // The slot falls back to the next newest of its artifacts (a rare, per-model scan).
    const slot = slotOf(removed);
    const next = newestPerSlot(await this.forModel(modelId)).get(slot);
    if (next) await this.redis.hset(this.keys.publishedSlots(modelId), slot, JSON.stringify(next));
    else await this.redis.hdel(this.keys.publishedSlots(modelId), slot);
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

/**
 * An entry of a model's `published` hash holds the summary less what its place says: the model is
 * the hash, the build key the field, and the target is its target key's unless the two differ
 * (Redis per build, docs/performance.md). Entries written before carry all of it.
 */
type StoredArtifact = Omit<PublishedArtifact, 'buildKey' | 'modelId' | 'target'> & { target?: PublishedArtifact['target'] };

function stored({ buildKey: _buildKey, modelId: _modelId, target, ...rest }: PublishedArtifact): StoredArtifact {
  return canonicalJson(targetOfKey(rest.targetKey)) === canonicalJson(target) ? rest : { ...rest, target };
}

function restored(modelId: string, buildKey: string, json: string): PublishedArtifact {
  const entry = JSON.parse(json) as StoredArtifact;
  return { ...entry, buildKey, modelId, target: entry.target ?? targetOfKey(entry.targetKey)! };
}

/** The target a key names; null for a key that does not parse (then the entry keeps its target). */
function targetOfKey(key: string): Target | null {
  try {
    return parseTargetKey(key);
  } catch {
    return null;
  }
}

/** The slot of an artifact: its target key and traits (e.g. TensorRT precision), in a fixed order. */
export function slotOf(artifact: Pick<PublishedArtifact, 'targetKey' | 'traits'>): string {
  const traits = Object.keys(artifact.traits ?? {})
    .sort()
    .map((name) => `${name}=${artifact.traits[name]}`);
  return [artifact.targetKey, ...traits].join('|');
}

function newestPerSlot(all: PublishedArtifact[]): Map<string, PublishedArtifact> {
  const best = new Map<string, PublishedArtifact>();
  for (const artifact of all) {
    if (artifact.validation === 'fail') continue;
    const slot = slotOf(artifact);
    const current = best.get(slot);
    if (!current || current.publishedAt < artifact.publishedAt) best.set(slot, artifact);
  }
  return best;
}

/** HSET slot only when the candidate is at least as new as what the slot holds (ISO times sort as text). */
const KEEP_NEWEST = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).publishedAt > ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;
