/** A request: one model, many targets, one options set; it fans out into one build per target. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BuildOptions } from '../core/options';
import type { ArtifactStore } from '../storage/artifact-store';
import { StorageUnavailableError } from '../storage/errors';
import { requestKey } from '../storage/layout';
import { readJson } from '../storage/read-json';
import type { BestMetric, Sweep } from '../core/sweep';
import type { RedisKeys } from './redis';

/** One point of a sweep on one target: the swept values, and the build (and runtime setting) that measures it. */
export interface SweepPointRecord {
  target: string;
  values: Record<string, unknown>;
  /** Absent when the target refused the point's options (see `refused`). */
  buildKey?: string;
  /** Index into the build's `onnxruntime.benchmarkRuntimes`, when points share one artifact. */
  runtime?: number;
  /** Why the target does not accept this point's options; such a point is never built. */
  refused?: string;
}

export interface RequestSweep {
  axes: Sweep;
  best: BestMetric;
  points: SweepPointRecord[];
}

export interface RequestRecord {
  id: string;
  modelId: string;
  targets: string[];
  options: BuildOptions;
  /** targetKey -> build key; empty for a sweep, whose builds are its points'. */
  builds: Record<string, string>;
  sweep?: RequestSweep;
  createdAt: string;
}

/** Every build key a request asked for, once each: its targets' or its sweep points'. */
export function requestBuildKeys(request: RequestRecord): string[] {
  const keys = Object.values(request.builds);
  for (const p of request.sweep?.points ?? []) if (p.buildKey) keys.push(p.buildKey);
  return [...new Set(keys)];
}

/** A request reference that is not one request: malformed, unknown, or a prefix of several. */
export class RequestRefError extends Error {
  override name = 'RequestRefError';
  constructor(readonly kind: 'invalid' | 'not-found' | 'ambiguous', message: string) {
    super(message);
  }
}

/** Request ids are UUIDs; like git, a prefix of 6 or more characters stands for the one it starts. */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REQUEST_PREFIX = /^[0-9a-f][0-9a-f-]{5,35}$/;
export const ACCEPTED_REQUEST_REF = 'a request id (a UUID such as 3f2a9c1e-7b4d-4e2a-9c51-0d8e6f1a2b3c) or its first 6 or more characters';

/** Why a reachable store refuses a write: full, read-only, not allowed. */
const WRITE_REFUSALS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

export class RequestRecords {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, private readonly store: ArtifactStore) {}

  /**
   * Journals the request in storage, then records it in Redis. Written before any of its builds is
   * queued: whatever Redis loses, an accepted request can be restored (src/api/reconciler.ts).
   * A store that refuses writes (full, read-only) does not stop the request: it is accepted
   * unjournaled (`journaled: false`), as its builds would wait the outage out anyway.
   * `settled`: every build it asks for is already published, so nothing waits on it and its journal
   * is written without an fsync (a power cut may lose it, losing no build): the fsyncs were most of
   * a resubmission's time (docs/performance.md).
   */
  async create(fields: Omit<RequestRecord, 'id' | 'createdAt'>, settled = false): Promise<{ record: RequestRecord; journaled: boolean }> {
    const record: RequestRecord = { id: randomUUID(), createdAt: new Date().toISOString(), ...fields };
    const journaled = await this.store.put(requestKey(record.id), JSON.stringify(record), { contentType: 'application/json', deferSync: settled }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof StorageUnavailableError && WRITE_REFUSALS.has(err.reason)) return false;
        throw err;
      },
    );
    await this.index(record);
    return { record, journaled };
  }

  /** Puts a journaled request back into Redis unless it is there; true when it was missing. */
  async restore(record: RequestRecord): Promise<boolean> {
    if (await this.redis.exists(this.keys.request(record.id))) return false;
    await this.index(record);
    return true;
  }

  private async index(record: RequestRecord): Promise<void> {
    const multi = this.redis
      .multi()
      .set(this.keys.request(record.id), JSON.stringify(record))
      .zadd(this.keys.requests, Date.parse(record.createdAt), record.id);
    // `name@best` looks for the newest sweep of a model.
    if (record.sweep) multi.zadd(this.keys.sweepsByModel(record.modelId), Date.parse(record.createdAt), record.id);
    await multi.exec();
  }

  /**
   * Forgets a request: its Redis record and indexes, and its journal in storage (a deleted model's
   * requests would otherwise be restored after Redis lost its data, naming a model that is gone).
   */
  async remove(record: Pick<RequestRecord, 'id' | 'modelId'>): Promise<void> {
    await this.redis.multi().del(this.keys.request(record.id)).zrem(this.keys.requests, record.id).zrem(this.keys.sweepsByModel(record.modelId), record.id).exec();
    await this.store.delete(requestKey(record.id));
  }

  /** The model's sweep requests, newest first. */
  async sweepsOf(modelId: string, count = 20): Promise<RequestRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.sweepsByModel(modelId), 0, count - 1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.request(id)));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as RequestRecord);
  }

  /** From Redis, else from its journal in storage (Redis lost it), which is put back. */
  async get(id: string): Promise<RequestRecord | null> {
    const json = await this.redis.get(this.keys.request(id));
    if (json) return JSON.parse(json) as RequestRecord;
    if (!REQUEST_ID.test(id)) return null;
    const journaled = await readJson<RequestRecord>(this.store, requestKey(id));
    if (journaled) await this.restore(journaled);
    return journaled;
  }

  /** A request by its id or a unique prefix of it; RequestRefError says what was wrong. */
  async resolve(ref: string): Promise<RequestRecord> {
    const id = ref.trim().toLowerCase();
    if (REQUEST_ID.test(id)) {
      const found = await this.get(id);
      if (found) return found;
      throw new RequestRefError('not-found', `No request ${ref}; \`kiln requests\` (GET /v1/requests) lists the recent ones`);
    }
    if (!REQUEST_PREFIX.test(id)) throw new RequestRefError('invalid', `Expected ${ACCEPTED_REQUEST_REF} but received "${ref}"`);
    const matches: string[] = [];
    let cursor = '0';
    do {
      const [next, entries] = await this.redis.zscan(this.keys.requests, cursor, 'MATCH', `${id}*`, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < entries.length; i += 2) matches.push(entries[i]);
    } while (cursor !== '0');
    const unique = [...new Set(matches)];
    if (unique.length > 1) throw new RequestRefError('ambiguous', `Request prefix ${ref} is ambiguous: ${unique.slice(0, 5).join(', ')}${unique.length > 5 ? ', ...' : ''}; give more characters`);
    const found = unique.length === 1 ? await this.get(unique[0]) : null;
    if (!found) throw new RequestRefError('not-found', `No request starts with ${ref}; \`kiln requests\` (GET /v1/requests) lists the recent ones`);
    return found;
  }

  /** The newest requests first. */
  async latest(count: number): Promise<RequestRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.requests, 0, count - 1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.request(id)));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as RequestRecord);
  }
}
