/**
 * Models: ONNX files stored once by sha256, with optional human labels `name@version`. The record
 * (`models/<sha>.json`) lives in storage next to the file; Redis holds an index of records and
 * labels that can be rebuilt from storage.
 */
import type { Redis } from 'ioredis';
import type { ModelInfo } from '../core/onnx/model-info';
import type { ArtifactStore } from '../storage/artifact-store';
import { modelInfoKey } from '../storage/layout';
import { readJson } from '../storage/read-json';
import type { RedisKeys } from './redis';

export interface ModelRecord {
  sha256: string;
  size: number;
  info: ModelInfo;
  /** `name@version` labels, oldest first. */
  labels: string[];
  uploadedAt: string;
  /** Public id of the token whose upload stored the file: it may delete the model, and its stored-bytes quota counts it. */
  uploadedBy?: string;
}

export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MODEL_REF_FORMS = 'a sha256 (64 hex digits, or a unique prefix of 12 or more), a name (resnet50) or name@version (resnet50@2)';

/** HSET key field max(current, ARGV[2]). */
const RAISE_TO = `local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

/** Appends ARGV[1] to the list unless it is there; returns the list. */
const ADD_LABEL = `local labels = redis.call('LRANGE', KEYS[1], 0, -1)
for _, v in ipairs(labels) do if v == ARGV[1] then return labels end end
redis.call('RPUSH', KEYS[1], ARGV[1])
table.insert(labels, ARGV[1])
return labels`;

export class ModelRefError extends Error {
  override name = 'ModelRefError';
}

export class LabelConflictError extends Error {
  override name = 'LabelConflictError';
}

export class ModelRegistry {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys, private readonly store: ArtifactStore) {}

  /**
   * A model's record. Its labels are the record's (those stored before labels had their own list)
   * followed by its label list's, which concurrent labellings append to atomically.
   */
  async get(sha256: string): Promise<ModelRecord | null> {
    const [[, json], [, labels]] = ((await this.redis.multi().hget(this.keys.models, sha256).lrange(this.keys.modelLabels(sha256), 0, -1).exec()) ?? []) as [unknown, unknown][];
    return json ? withLabels(JSON.parse(json as string) as ModelRecord, labels as string[]) : null;
  }

  /** The records of the given models that exist (any order, each once): O(models asked for). */
  async getMany(shas: string[]): Promise<ModelRecord[]> {
    const unique = [...new Set(shas)];
    if (unique.length === 0) return [];
    const json = await this.redis.hmget(this.keys.models, ...unique);
    return this.withLabelLists(json.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as ModelRecord));
  }

  /**
   * One page of models, newest first, read from the upload-order index: O(page), however many
   * models the farm has. The cursor is the last member of the previous page, so a model uploaded
   * or deleted between pages neither repeats nor shifts the rest.
   */
  async page(query: { cursor?: string; limit: number }): Promise<{ models: ModelRecord[]; nextCursor: string | null }> {
    await this.indexUploadOrder();
    const after = decodeModelCursor(query.cursor);
    const members = await this.redis.zrevrangebylex(this.keys.modelsByUpload, after === null ? '+' : `(${after}`, '-', 'LIMIT', 0, query.limit + 1);
    const shown = members.slice(0, query.limit);
    const json = shown.length ? await this.redis.hmget(this.keys.models, ...shown.map(shaOfMember)) : [];
    const records = json.filter((j): j is string => j !== null).map((j) => JSON.parse(j) as ModelRecord);
    const last = shown[shown.length - 1];
    return { models: await this.withLabelLists(records), nextCursor: members.length > query.limit && last ? Buffer.from(last).toString('base64url') : null };
  }

  /** Models recorded before the upload-order index existed (or by a rebuild) join it, once: two O(1) counts otherwise. */
  private async indexUploadOrder(): Promise<void> {
    const [[, indexed], [, recorded]] = ((await this.redis.multi().zcard(this.keys.modelsByUpload).hlen(this.keys.models).exec()) ?? []) as [unknown, number][];
    if (indexed === recorded) return;
    const all = (await this.redis.hvals(this.keys.models)).map((j) => JSON.parse(j) as ModelRecord);
    const multi = this.redis.multi();
    for (const record of all) multi.zadd(this.keys.modelsByUpload, 0, uploadMember(record));
    await multi.exec();
  }

  private async withLabelLists(records: ModelRecord[]): Promise<ModelRecord[]> {
    const pipeline = this.redis.pipeline();
    for (const record of records) pipeline.lrange(this.keys.modelLabels(record.sha256), 0, -1);
    const labels = (await pipeline.exec()) ?? [];
    return records.map((r, i) => withLabels(r, labels[i]?.[1] as string[]));
  }

  /**
   * Records a stored model and, when given, a label for it. `created` is true for exactly one of
   * any number of concurrent uploads of the same bytes (HSETNX), and concurrent labels all stay.
   * `uploadedBy`: the token that stored the file, kept by the upload that created the record.
   */
  async register(info: ModelInfo, label?: { name: string; version?: number }, uploadedBy?: string): Promise<{ record: ModelRecord; created: boolean }> {
    const fresh: ModelRecord = { sha256: info.sha256, size: info.size, info, labels: [], uploadedAt: new Date().toISOString(), ...(uploadedBy ? { uploadedBy } : {}) };
    const created = (await this.redis.hsetnx(this.keys.models, info.sha256, JSON.stringify(fresh))) === 1;
    if (created) await this.redis.zadd(this.keys.modelsByUpload, 0, uploadMember(fresh));
    if (label) {
      const current = (await this.get(info.sha256))!;
      const assigned = await this.assignLabel(info.sha256, label.name, label.version, current.labels);
      await this.redis.eval(ADD_LABEL, 1, this.keys.modelLabels(info.sha256), assigned);
    }
    return { record: await this.writeRecord(info.sha256), created };
  }

  /**
   * Writes the record to storage until what was written has every label Redis has: of two
   * concurrent writers the later one to read the labels writes last, so storage ends complete.
   */
  private async writeRecord(sha256: string): Promise<ModelRecord> {
    for (;;) {
      const record = (await this.get(sha256))!;
      await this.store.put(modelInfoKey(sha256), JSON.stringify(record, null, 2), { contentType: 'application/json' });
      const after = (await this.get(sha256))!;
      if (after.labels.length === record.labels.length) return record;
    }
  }

  /** Checks a label before anything is stored: its form, and that name@version is not another model's. */
  async checkLabel(sha: string, name: string, version?: number): Promise<void> {
    if (!MODEL_NAME.test(name)) {
      throw new ModelRefError(`Expected a model name of lower-case letters, digits, '.', '_' or '-' (up to 64) but received "${name}"`);
    }
    if (version === undefined) return;
    const owner = await this.redis.hget(this.keys.modelNames, `${name}@${version}`);
    if (owner && owner !== sha) throw new LabelConflictError(`${name}@${version} already names model ${owner}; pick another version or omit it to get the next one`);
  }

  private async assignLabel(sha: string, name: string, version: number | undefined, labels: string[]): Promise<string> {
    await this.checkLabel(sha, name, version);
    if (version === undefined) {
      const already = labels.find((l) => l.startsWith(`${name}@`));
      if (already) return already;
      // Next free version; HSETNX makes concurrent pushes of one name pick different versions.
      for (let v = (await this.latestVersion(name)) + 1; ; v++) {
        if (await this.redis.hsetnx(this.keys.modelNames, `${name}@${v}`, sha)) {
          await this.noteVersion(name, v);
          return `${name}@${v}`;
        }
      }
    }
    const label = `${name}@${version}`;
    if (!(await this.redis.hsetnx(this.keys.modelNames, label, sha))) {
      const owner = await this.redis.hget(this.keys.modelNames, label);
      if (owner !== sha) throw new LabelConflictError(`${label} already names model ${owner}; pick another version or omit it to get the next one`);
    }
    await this.noteVersion(name, version);
    return label;
  }

  /**
   * The latest version of a name, from a per-name index (one HGET), so resolving `name` stays O(1)
   * however many labels the farm has. Names labelled before the index existed are found by a scan,
   * once, and indexed.
   */
  private async latestVersion(name: string): Promise<number> {
    const indexed = await this.redis.hget(this.keys.modelLatest, name);
    if (indexed !== null) return Number(indexed);
    let latest = 0;
    for (const label of await this.redis.hkeys(this.keys.modelNames)) {
      const [n, v] = label.split('@');
      if (n === name) latest = Math.max(latest, Number(v));
    }
    if (latest > 0) await this.noteVersion(name, latest);
    return latest;
  }

  private async newestRemaining(name: string): Promise<string | null> {
    let best = 0;
    for (const label of await this.redis.hkeys(this.keys.modelNames)) {
      const [n, v] = label.split('@');
      if (n === name) best = Math.max(best, Number(v));
    }
    return best > 0 ? this.redis.hget(this.keys.modelNames, `${name}@${best}`) : null;
  }

  /** Raises the indexed latest version of a name (never lowers it; atomic across API processes). */
  private async noteVersion(name: string, version: number): Promise<void> {
    await this.redis.eval(RAISE_TO, 1, this.keys.modelLatest, name, version);
  }

  /**
   * Forgets a model: its record in storage and Redis and its labels. Other versions of its names
   * stay; version numbers are never given out again (the latest-version index is not lowered), so
   * `name@3` never comes to mean another model. Returns the labels removed.
   */
  async remove(record: ModelRecord): Promise<string[]> {
    const multi = this.redis.multi().hdel(this.keys.models, record.sha256).zrem(this.keys.modelsByUpload, uploadMember(record));
    for (const label of record.labels) multi.hdel(this.keys.modelNames, label);
    await multi.exec();
    await this.store.delete(modelInfoKey(record.sha256));
    return record.labels;
  }

  /** Resolves a sha, a unique sha prefix, `name` (latest version) or `name@version` to a record. */
  async resolve(ref: string): Promise<ModelRecord> {
    let sha: string | null = null;
    if (/^[0-9a-f]{64}$/.test(ref)) sha = ref;
    else if (/^[0-9a-f]{12,63}$/.test(ref)) {
      const matches = (await this.redis.hkeys(this.keys.models)).filter((k) => k.startsWith(ref));
      if (matches.length > 1) throw new ModelRefError(`Model prefix ${ref} is ambiguous: it matches ${matches.length} models`);
      sha = matches[0] ?? null;
    } else if (/^[a-z0-9][a-z0-9._-]{0,63}(@\d+)?$/.test(ref)) {
      const label = ref.includes('@') ? ref : `${ref}@${await this.latestVersion(ref)}`;
      sha = await this.redis.hget(this.keys.modelNames, label);
      // The latest version may have been deleted: a bare name means the newest one left.
      if (!sha && !ref.includes('@')) sha = await this.newestRemaining(ref);
    } else {
      throw new ModelRefError(`Expected ${MODEL_REF_FORMS} but received "${ref}"`);
    }
    const record = sha ? await this.get(sha) : null;
    if (!record) throw new ModelRefError(`No model ${ref}; push it first (POST /v1/models) or use ${MODEL_REF_FORMS}`);
    return record;
  }

  /** Recreates the index from the model records in storage. */
  async rebuild(): Promise<number> {
    let count = 0;
    for await (const object of this.store.list('models/')) {
      if (!object.key.endsWith('.json')) continue;
      const record = await readJson<ModelRecord>(this.store, object.key);
      if (!record) continue;
      const multi = this.redis.multi().hset(this.keys.models, record.sha256, JSON.stringify(record)).zadd(this.keys.modelsByUpload, 0, uploadMember(record));
      for (const label of record.labels) multi.hset(this.keys.modelNames, label, record.sha256);
      await multi.exec();
      for (const label of record.labels) await this.redis.eval(ADD_LABEL, 1, this.keys.modelLabels(record.sha256), label);
      for (const label of record.labels) {
        const [name, version] = label.split('@');
        await this.noteVersion(name, Number(version));
      }
      count++;
    }
    return count;
  }
}

/** ISO timestamps sort as strings, so the lex order of `<uploadedAt>|<sha256>` is upload order (ties by sha256). */
function uploadMember(record: ModelRecord): string {
  return `${record.uploadedAt}|${record.sha256}`;
}

function shaOfMember(member: string): string {
  return member.slice(member.indexOf('|') + 1);
}

export class ModelCursorError extends Error {
  override name = 'ModelCursorError';
}

function decodeModelCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const member = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z\|[0-9a-f]{64}$/.test(member)) {
    throw new ModelCursorError(`Expected a cursor returned by a previous page (nextCursor) but received "${cursor}"`);
  }
  return member;
}

function withLabels(record: ModelRecord, listed: string[] | null | undefined): ModelRecord {
  const labels = [...record.labels];
  for (const label of listed ?? []) if (!labels.includes(label)) labels.push(label);
  return { ...record, labels };
}
