import { Redis } from 'ioredis';

export type RedisConnectionKind = 'worker' | 'request';

export interface ConnectOptions {
  /** (Default: worker) */
  kind?: RedisConnectionKind;
  /** `request` connections: a command that gets no answer in this long fails (Default: 3000). */
  commandTimeoutMs?: number;
}

/**
 * One way to open Redis connections, of two kinds:
 * - `worker`: `maxRetriesPerRequest: null`, what BullMQ requires of the connections its workers
 *   block on; commands wait for Redis to come back, however long it is away.
 * - `request`: the API's. While Redis is down a command fails after one reconnection attempt
 *   (within about a second) and a command that gets no answer fails after `commandTimeoutMs`, so
 *   a request answers 503 at once instead of hanging for the outage's length.
 */
export function connectRedis(url: string, name: string, options: ConnectOptions = {}): Redis {
  if ((options.kind ?? 'worker') === 'worker') return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
  return new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 3000,
    connectTimeout: options.commandTimeoutMs ?? 3000,
    // Reconnect quickly: queued commands fail on the second failed attempt, not after ~2 s backoffs.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
}

/** Every Redis key Kiln uses, under one prefix (several farms, or test runs, can share a Redis). */
export function redisKeys(prefix: string) {
  return {
    build: (buildKey: string) => `${prefix}:build:${buildKey}`,
    buildLog: (buildKey: string) => `${prefix}:build:${buildKey}:log`,
    buildRequests: (buildKey: string) => `${prefix}:build:${buildKey}:requests`,
    /** The build's spec, beside its record hash so the hash keeps Redis's compact encoding (docs/performance.md). */
    buildSpec: (buildKey: string) => `${prefix}:build:${buildKey}:spec`,
    buildsAll: `${prefix}:builds`,
    buildsByState: (state: string) => `${prefix}:builds:state:${state}`,
    buildsByModel: (modelId: string) => `${prefix}:builds:model:${modelId}`,
    buildsByTarget: (targetKey: string) => `${prefix}:builds:target:${targetKey}`,
    /** Every target key a build was ever recorded for: a set, so listing them is never a keyspace SCAN. */
    builtTargets: `${prefix}:builds:targets`,
    /** Set once builtTargets holds the targets of builds recorded before it existed. */
    builtTargetsIndexed: `${prefix}:builds:targets:indexed`,
    /** Builds finished per hour by final state, `<hour>|<state>` -> count, for the last day (src/state/finished-per-hour.ts). */
    buildsFinishedPerHour: `${prefix}:builds:finished-per-hour`,
    request: (id: string) => `${prefix}:request:${id}`,
    requests: `${prefix}:requests`,
    sweepsByModel: (modelId: string) => `${prefix}:requests:sweeps:${modelId}`,
    worker: (id: string) => `${prefix}:worker:${id}`,
    workers: `${prefix}:workers`,
    published: (modelId: string) => `${prefix}:published:${modelId}`,
    /** Per model, resolve's candidates: slot (target key + traits) -> its newest usable artifact. */
    publishedSlots: (modelId: string) => `${prefix}:published-slots:${modelId}`,
    indexBuilt: `${prefix}:index:built`,
    /** What the supervisor last restored after Redis lost its data (src/api/reconciler.ts). */
    recovery: `${prefix}:recovery`,
    reconcileLock: `${prefix}:reconcile:lock`,
    models: `${prefix}:models`,
    /** Models newest first for paging: members `<uploadedAt>|<sha256>`, all score 0, read by lex range. */
    modelsByUpload: `${prefix}:models:by-upload`,
    modelNames: `${prefix}:model-names`,
    modelLatest: `${prefix}:model-latest`,
    /** A model's labels, oldest first: a list, so concurrent labellings each append (atomic). */
    modelLabels: (sha256: string) => `${prefix}:model-labels:${sha256}`,
    events: (buildKey: string) => `${prefix}:events:${buildKey}`,
    allEvents: `${prefix}:events`,
    cancel: `${prefix}:cancel`,
    tmp: (name: string) => `${prefix}:tmp:${name}`,
    /** API tokens created at run time: sha256 -> entry, and public id -> sha256. */
    tokens: `${prefix}:tokens`,
    tokenIds: `${prefix}:tokens:ids`,
    /** Builds a token queued that may still be queued or running (its concurrency quota). */
    tokenBuilds: (tokenId: string) => `${prefix}:token:${tokenId}:builds`,
    /** Bytes each token uploaded (its stored-bytes quota), by token id. */
    tokenStoredBytes: `${prefix}:token-stored-bytes`,
    /** Prefix of rate-limiter-flexible's keys. */
    rateLimit: (name: string) => `${prefix}:ratelimit:${name}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
