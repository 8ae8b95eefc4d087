/**
 * Build records: the state of every build key Kiln was asked for, kept in Redis hashes with sorted
 * set indexes (all, by state, by model, by target; scored by creation time) so that listing with
 * filters and cursor pagination stays fast with tens of thousands of builds.
 *
 * A record stays small (Kiln issue 11, docs/performance.md "Redis per build"): every value of its
 * hash is short, so Redis keeps the hash as one listpack instead of a hash table; the spec, the one
 * long value, is a string key beside it; and a published build's report is not copied into it, as
 * the artifact set's report.json is the report (src/api/build-reports.ts reads it). Records written
 * before kept `spec` and `report` in the hash, and still read the same.
 */
import type { Redis } from 'ioredis';
import type { BuildSpec } from '../core/build-spec';
import type { BuildReport } from '../core/report';
import { COUNT_FINISHED_LUA, FinishedPerHour, oldestCountedHour, type HourBucket } from './finished-per-hour';
import type { RedisKeys } from './redis';

export const BUILD_STATES = ['queued', 'active', 'succeeded', 'failed', 'cancelled'] as const;
export type BuildState = (typeof BUILD_STATES)[number];

export interface BuildRecord {
  /** sha256 of the build spec's canonical JSON: the build's name everywhere. */
  buildKey: string;
  modelId: string;
  targetKey: string;
  toolchain: string;
  state: BuildState;
  phase?: string;
  percent: number;
  spec: BuildSpec;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Attempts started (BullMQ attemptsMade + 1 while active). */
  attempts: number;
  worker?: string;
  error?: string;
  /**
   * Set when the build failed because of what it was given (a model its toolchain cannot load, a
   * missing shape, an option the toolchain refuses, a validation that failed): the same build key
   * fails the same way again, so retrying is pointless and clients do not offer it.
   */
  inputError?: boolean;
  /** Set when cancel was asked for an active build; the worker stops at its next check. */
  cancelRequested?: boolean;
  /** Validation verdict once known. */
  verdict?: string;
  /**
   * The report of a build that published nothing (a failed validation or drift gate). A published
   * build's report is its artifact set's report.json: Redis does not keep a second copy (records
   * written before this kept it here too).
   */
  report?: BuildReport;
  /** Whether this worker's artifact set became the published one (false: another worker's did). */
  publishedByThisBuild?: boolean;
}

const JSON_FIELDS = new Set(['spec', 'report']);
const NUMBER_FIELDS = new Set(['percent', 'attempts']);
const BOOL_FIELDS = new Set(['cancelRequested', 'publishedByThisBuild', 'inputError']);

/**
 * The field that says the record exists: creation claims it with HSETNX. Records made before held
 * the build key in it; the key of the hash already says it, so it now holds `1` (64 bytes less made
 * the listpack 190 bytes smaller), and a record's build key is the one it was read by.
 */
const KEY_FIELD = 'id';
const EXISTS = '1';

/**
 * The requests that asked for a build are fields of its hash, `request:<id>` (a set key per build
 * cost 300 bytes for one id). Records written before kept them in a set, `build:<key>:requests`,
 * which is still read.
 */
const REQUEST_FIELD = 'request:';

/**
 * Every field of a record's hash but the request ids (`spec` and `report` for records written
 * before). A record is read by these names (HMGET), never with HGETALL: a build resubmitted a
 * thousand times has a thousand request fields, and reading them all on every submit, status and
 * list made each resubmission slower than the one before (docs/performance.md). The type makes the
 * list complete: a field added to BuildRecord must be named here.
 */
const STORED_FIELDS: Record<Exclude<keyof BuildRecord, 'buildKey'>, true> = {
  modelId: true,
  targetKey: true,
  toolchain: true,
  state: true,
  phase: true,
  percent: true,
  spec: true,
  createdAt: true,
  updatedAt: true,
  startedAt: true,
  finishedAt: true,
  attempts: true,
  worker: true,
  error: true,
  inputError: true,
  cancelRequested: true,
  verdict: true,
  report: true,
  publishedByThisBuild: true,
};
const RECORD_FIELDS = [KEY_FIELD, ...Object.keys(STORED_FIELDS)];

/** HMGET's answer for RECORD_FIELDS as a hash (absent fields left out). */
function recordHash(values: (string | null)[]): Record<string, string> {
  const hash: Record<string, string> = {};
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) hash[RECORD_FIELDS[i]] = v;
  });
  return hash;
}

function toHash(fields: Partial<BuildRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    // The spec has its own key (records written before kept it here).
    if (v === undefined || k === 'spec' || k === 'buildKey') continue;
    out[k] = JSON_FIELDS.has(k) ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** The spec key holds the spec less what the hash already says (modelId, targetKey). */
type StoredSpec = Omit<BuildSpec, 'modelId' | 'targetKey'>;

function storedSpec({ modelId: _modelId, targetKey: _targetKey, ...rest }: BuildSpec): StoredSpec {
  return rest;
}

function specFrom(stored: StoredSpec, hash: Record<string, string>): BuildSpec {
  return { schema: stored.schema, modelId: hash.modelId, target: stored.target, targetKey: hash.targetKey, options: stored.options };
}

function fromHash(buildKey: string, hash: Record<string, string>, spec: string | null): BuildRecord | null {
  if (!hash[KEY_FIELD]) return null;
  const out: Record<string, unknown> = { buildKey };
  // Records written before the spec had its own key keep it in the hash (and have no spec key).
  if (spec) out.spec = specFrom(JSON.parse(spec) as StoredSpec, hash);
  for (const [k, v] of Object.entries(hash)) {
    if (v === '' || k === KEY_FIELD || k.startsWith(REQUEST_FIELD)) continue;
    if (JSON_FIELDS.has(k)) out[k] = JSON.parse(v);
    else if (NUMBER_FIELDS.has(k)) out[k] = Number(v);
    else if (BOOL_FIELDS.has(k)) out[k] = v === 'true';
    else out[k] = v;
  }
  return out as unknown as BuildRecord;
}

export interface BuildQuery {
  state?: BuildState;
  model?: string;
  target?: string;
  cursor?: string;
  limit: number;
}

export interface BuildPage {
  builds: BuildRecord[];
  nextCursor: string | null;
}

/**
 * Moves a finished build (KEYS[3..5]: failed, cancelled, succeeded index) back to queued (KEYS[6])
 * in one step, uncounting its finish (KEYS[7], ARGV[3]: the oldest counted hour); returns 1 only
 * to the one caller that moved it.
 */
const REQUEUE_FINISHED = `${COUNT_FINISHED_LUA}
local before = redis.call('HMGET', KEYS[1], 'state', 'finishedAt')
local from = ({failed = KEYS[3], cancelled = KEYS[4], succeeded = KEYS[5]})[before[1] or '']
if not from then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'percent', '0', 'updatedAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'error', 'finishedAt', 'cancelRequested', 'phase', 'report', 'verdict', 'inputError')
countFinished(KEYS[7], before[1], before[2], ARGV[3], -1)
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score then
  redis.call('ZREM', from, ARGV[1])
  redis.call('ZADD', KEYS[6], score, ARGV[1])
end
return 1`;

/**
 * Updates a recorded build in one step: KEYS[1] its hash, KEYS[2] the all-builds index, KEYS[3]
 * the finished-per-hour counts, KEYS[4..] the state indexes in BUILD_STATES order. ARGV[1] the
 * build key, ARGV[2] the oldest counted hour, ARGV[3] how many fields to clear, then those fields,
 * then field/value pairs to set. A state change moves the build between state indexes, and a
 * change of state or finishedAt moves its finish between hourly counts. Returns 0 for a build
 * that is not recorded (nothing is written).
 */
const UPDATE = `${COUNT_FINISHED_LUA}
local before = redis.call('HMGET', KEYS[1], 'state', 'finishedAt')
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not before[1] or not score then return 0 end
local clear = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 4 + clear))
if clear > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + clear)) end
local after = redis.call('HMGET', KEYS[1], 'state', 'finishedAt')
if after[1] ~= before[1] then
  local index = {${BUILD_STATES.map((s, i) => `${s} = KEYS[${4 + i}]`).join(', ')}}
  redis.call('ZREM', index[before[1]], ARGV[1])
  redis.call('ZADD', index[after[1]], score, ARGV[1])
end
if after[1] ~= before[1] or after[2] ~= before[2] then
  countFinished(KEYS[3], before[1], before[2], ARGV[2], -1)
  countFinished(KEYS[3], after[1], after[2], ARGV[2], 1)
end
return 1`;

/**
 * Forgets a build in one step: KEYS[1] its hash, KEYS[2..4] its log, request (records from before
 * requests were hash fields) and spec keys, KEYS[5] the all-builds index, KEYS[6] and KEYS[7] its
 * model's and target's, KEYS[8] the finished-per-hour counts, KEYS[9..] the state indexes; ARGV[1]
 * the build key, ARGV[2] the oldest counted hour.
 */
const REMOVE = `${COUNT_FINISHED_LUA}
local before = redis.call('HMGET', KEYS[1], 'state', 'finishedAt')
if before[1] then countFinished(KEYS[8], before[1], before[2], ARGV[2], -1) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
for i = 9, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1`;

/**
 * Creates a record (KEYS[1], its spec KEYS[2]) unless its key field exists, with its index entries
 * (KEYS[3..6]: all, by state, by model, by target; KEYS[7]: the set of target keys) scored by
 * creation time in ms x 1000 plus a sequence number (KEYS[8]), so scores are unique and a cursor can
 * be a bare score (exclusive), however many builds one request creates in a millisecond. The score
 * is put together as text: a Lua number would be written back with 14 significant digits. ARGV: the
 * build key, the creation time in ms, the target key, the stored spec, then field/value pairs.
 * Returns 1 when it created the record, else the existing record's fields and spec. Atomic, so two
 * API processes racing on one key create it once.
 */
const ENSURE_RECORD = `if redis.call('HSETNX', KEYS[1], '${KEY_FIELD}', '${EXISTS}') == 0 then
  return {redis.call('HMGET', KEYS[1], ${RECORD_FIELDS.map((f) => `'${f}'`).join(', ')}), redis.call('GET', KEYS[2])}
end
local seq = redis.call('INCR', KEYS[8]) % 1000
local score = ARGV[2] .. string.format('%03d', seq)
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('SET', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], score, ARGV[1])
redis.call('ZADD', KEYS[4], score, ARGV[1])
redis.call('ZADD', KEYS[5], score, ARGV[1])
redis.call('ZADD', KEYS[6], score, ARGV[1])
redis.call('SADD', KEYS[7], ARGV[3])
return 1`;

export class BuildRecords {
  private readonly finished: FinishedPerHour;

  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {
    this.finished = new FinishedPerHour(redis, keys);
  }

  async get(buildKey: string): Promise<BuildRecord | null> {
    return (await this.getMany([buildKey]))[0] ?? null;
  }

  async getMany(buildKeys: string[]): Promise<BuildRecord[]> {
    if (buildKeys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const buildKey of buildKeys) pipeline.hmget(this.keys.build(buildKey), ...RECORD_FIELDS).get(this.keys.buildSpec(buildKey));
    const results = (await pipeline.exec()) ?? [];
    const records: BuildRecord[] = [];
    for (let i = 0; i < results.length; i += 2) {
      const [[hashErr, hash], [specErr, spec]] = [results[i], results[i + 1]];
      if (hashErr) throw hashErr;
      if (specErr) throw specErr;
      const record = fromHash(buildKeys[i / 2], recordHash(hash as (string | null)[]), spec as string | null);
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * Creates the record if absent and returns it; an existing record is returned unchanged (a build
   * key is one build, whoever asks for it). One round trip (ENSURE_RECORD): it runs between the
   * record's createdAt and the job's enqueue, so on the submit -> active path (docs/performance.md).
   */
  async ensure(spec: BuildSpec, buildKey: string, initial: BuildState): Promise<{ record: BuildRecord; created: boolean }> {
    const now = new Date();
    const record: BuildRecord = {
      buildKey,
      modelId: spec.modelId,
      targetKey: spec.targetKey,
      toolchain: spec.target.toolchain,
      state: initial,
      percent: initial === 'succeeded' ? 100 : 0,
      spec,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      attempts: 0,
    };
    const k = this.keys;
    const result = await this.redis.eval(
      ENSURE_RECORD,
      8,
      k.build(buildKey),
      k.buildSpec(buildKey),
      k.buildsAll,
      k.buildsByState(initial),
      k.buildsByModel(spec.modelId),
      k.buildsByTarget(spec.targetKey),
      k.builtTargets,
      k.tmp('build-seq'),
      buildKey,
      String(now.getTime()),
      spec.targetKey,
      JSON.stringify(storedSpec(spec)),
      ...Object.entries(toHash(record)).flat(),
    );
    if (result === 1) return { record, created: true };
    const [values, stored] = result as [(string | null)[], string | null];
    return { record: fromHash(buildKey, recordHash(values), stored)!, created: false };
  }

  /**
   * Updates fields; a state change moves the build between the state indexes, and a finish (or
   * its undoing) moves the hourly counts, atomically with the fields.
   */
  async update(buildKey: string, fields: Partial<BuildRecord>, clear: (keyof BuildRecord)[] = []): Promise<void> {
    const k = this.keys;
    const set = Object.entries(toHash({ ...fields, updatedAt: new Date().toISOString() })).flat();
    await this.redis.eval(
      UPDATE,
      3 + BUILD_STATES.length,
      k.build(buildKey),
      k.buildsAll,
      k.buildsFinishedPerHour,
      ...BUILD_STATES.map((s) => k.buildsByState(s)),
      buildKey,
      oldestCountedHour(),
      clear.length,
      ...(clear as string[]),
      ...set,
    );
  }

  /** Forgets a build: its record, every index entry and count, its kept log lines and its request links. */
  async remove(record: Pick<BuildRecord, 'buildKey' | 'modelId' | 'targetKey'>): Promise<void> {
    const { buildKey } = record;
    const k = this.keys;
    await this.redis.eval(
      REMOVE,
      8 + BUILD_STATES.length,
      k.build(buildKey),
      k.buildLog(buildKey),
      k.buildRequests(buildKey),
      k.buildSpec(buildKey),
      k.buildsAll,
      k.buildsByModel(record.modelId),
      k.buildsByTarget(record.targetKey),
      k.buildsFinishedPerHour,
      ...BUILD_STATES.map((s) => k.buildsByState(s)),
      buildKey,
      oldestCountedHour(),
    );
  }

  /** Builds finished per hour over the last 24 hours, by final state, from counters: O(hours). */
  finishedPerHour(now = Date.now()): Promise<HourBucket[]> {
    return this.finished.lastDay(now);
  }

  /** Every build key of a model, oldest first. */
  async keysOfModel(modelId: string): Promise<string[]> {
    return this.redis.zrange(this.keys.buildsByModel(modelId), '0', '-1');
  }

  /**
   * A failed, cancelled (or succeeded but since unpublished) build asked for again goes back to
   * queued; of concurrent askers exactly one gets true, and the others joined its build.
   */
  async requeueIfFinished(buildKey: string): Promise<boolean> {
    const k = this.keys;
    const moved = await this.redis.eval(
      REQUEUE_FINISHED,
      7,
      k.build(buildKey),
      k.buildsAll,
      k.buildsByState('failed'),
      k.buildsByState('cancelled'),
      k.buildsByState('succeeded'),
      k.buildsByState('queued'),
      k.buildsFinishedPerHour,
      buildKey,
      new Date().toISOString(),
      oldestCountedHour(),
    );
    return moved === 1;
  }

  async addRequest(buildKey: string, requestId: string): Promise<void> {
    await this.redis.hset(this.keys.build(buildKey), `${REQUEST_FIELD}${requestId}`, '1');
  }

  /**
   * Every target key a build was recorded for, from the set kept as builds are created: O(targets),
   * however many keys Redis holds. Builds recorded before the set existed are found by one SCAN of
   * the per-target indexes, once per Redis dataset (a marker key says it was done).
   */
  async builtTargets(): Promise<string[]> {
    const [[, targets], [, indexed]] = ((await this.redis.multi().smembers(this.keys.builtTargets).exists(this.keys.builtTargetsIndexed).exec()) ?? []) as [unknown, unknown][];
    if (indexed === 1) return targets as string[];
    const prefix = this.keys.buildsByTarget('');
    const found = new Set<string>(targets as string[]);
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key.slice(prefix.length));
    } while (cursor !== '0');
    const multi = this.redis.multi().set(this.keys.builtTargetsIndexed, '1');
    if (found.size) multi.sadd(this.keys.builtTargets, ...found);
    await multi.exec();
    return [...found];
  }

  /** The requests that asked for a build. */
  async requestIds(buildKey: string): Promise<string[]> {
    const [[, fields], [, older]] = ((await this.redis.multi().hkeys(this.keys.build(buildKey)).smembers(this.keys.buildRequests(buildKey)).exec()) ?? []) as [unknown, string[]][];
    const ids = fields.filter((f) => f.startsWith(REQUEST_FIELD)).map((f) => f.slice(REQUEST_FIELD.length));
    return [...new Set([...ids, ...older])];
  }

  async countByState(): Promise<Record<BuildState, number>> {
    const pipeline = this.redis.pipeline();
    for (const state of BUILD_STATES) pipeline.zcard(this.keys.buildsByState(state));
    const results = (await pipeline.exec()) ?? [];
    return Object.fromEntries(BUILD_STATES.map((s, i) => [s, Number(results[i][1])])) as Record<BuildState, number>;
  }

  /** Newest first; the cursor is opaque to clients. */
  async list(query: BuildQuery): Promise<BuildPage> {
    const indexes: string[] = [];
    if (query.state) indexes.push(this.keys.buildsByState(query.state));
    if (query.model) indexes.push(this.keys.buildsByModel(query.model));
    if (query.target) indexes.push(this.keys.buildsByTarget(query.target));
    let index = indexes[0] ?? this.keys.buildsAll;
    if (indexes.length > 1) {
      // Intersections are computed into a short-lived key; filters combine rarely and briefly.
      index = this.keys.tmp(`builds:${indexes.join('|')}`);
      await this.redis.multi().zinterstore(index, indexes.length, ...indexes, 'AGGREGATE', 'MAX').pexpire(index, 5000).exec();
    }
    const after = decodeCursor(query.cursor);
    const max = after === null ? '+inf' : `(${after}`;
    const raw = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, query.limit + 1);
    const entries: { buildKey: string; score: number }[] = [];
    for (let i = 0; i < raw.length; i += 2) entries.push({ buildKey: raw[i], score: Number(raw[i + 1]) });
    const page = entries.slice(0, query.limit);
    const builds = await this.getMany(page.map((e) => e.buildKey));
    const last = page[page.length - 1];
    return { builds, nextCursor: entries.length > query.limit && last ? encodeCursor(last.score) : null };
  }
}

function encodeCursor(score: number): string {
  return Buffer.from(String(score)).toString('base64url');
}

export class CursorError extends Error {
  override name = 'CursorError';
}

function decodeCursor(cursor: string | undefined): number | null {
  if (!cursor) return null;
  const score = Number(Buffer.from(cursor, 'base64url').toString());
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || !Number.isFinite(score)) {
    throw new CursorError('Expected a cursor returned by a previous page (nextCursor)');
  }
  return score;
}
