import { Redis } from 'ioredis';

/**
 * One way to open Redis connections. `maxRetriesPerRequest: null` is what BullMQ requires of the
 * connections it blocks on; Kiln uses the same settings everywhere so a connection can be shared.
 */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
}

/** Every Redis key Kiln uses, under one prefix (several farms, or test runs, can share a Redis). */
export function redisKeys(prefix: string) {
  return {
    build: (buildKey: string) => `${prefix}:build:${buildKey}`,
    buildLog: (buildKey: string) => `${prefix}:build:${buildKey}:log`,
    buildRequests: (buildKey: string) => `${prefix}:build:${buildKey}:requests`,
    buildsAll: `${prefix}:builds`,
    buildsByState: (state: string) => `${prefix}:builds:state:${state}`,
    buildsByModel: (modelId: string) => `${prefix}:builds:model:${modelId}`,
    buildsByTarget: (targetKey: string) => `${prefix}:builds:target:${targetKey}`,
    request: (id: string) => `${prefix}:request:${id}`,
    requests: `${prefix}:requests`,
    worker: (id: string) => `${prefix}:worker:${id}`,
    workers: `${prefix}:workers`,
    published: (modelId: string) => `${prefix}:published:${modelId}`,
    indexBuilt: `${prefix}:index:built`,
    models: `${prefix}:models`,
    modelNames: `${prefix}:model-names`,
    modelLatest: `${prefix}:model-latest`,
    events: (buildKey: string) => `${prefix}:events:${buildKey}`,
    allEvents: `${prefix}:events`,
    cancel: `${prefix}:cancel`,
    tmp: (name: string) => `${prefix}:tmp:${name}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
