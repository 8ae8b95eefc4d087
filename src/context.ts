/**
 * The farm's shared services, built once per process from the configuration: Redis, storage, the
 * state kept in Redis and the queues. The API and the worker each hold one.
 */
import type { Redis } from 'ioredis';
import type { KilnConfig } from './config';
import { BuildQueues } from './queue/build-queues';
import { ArtifactIndex } from './state/artifact-index';
import { BuildRecords } from './state/build-records';
import { ModelRegistry } from './state/model-registry';
import { connectRedis, redisKeys, type RedisKeys } from './state/redis';
import { RequestRecords } from './state/requests';
import { WorkerRegistry } from './state/worker-registry';
import type { ArtifactStore } from './storage/artifact-store';
import { createStore } from './storage/create-store';

export interface FarmContext {
  config: KilnConfig;
  redis: Redis;
  keys: RedisKeys;
  store: ArtifactStore;
  builds: BuildRecords;
  requests: RequestRecords;
  workers: WorkerRegistry;
  artifacts: ArtifactIndex;
  models: ModelRegistry;
  queues: BuildQueues;
  close(): Promise<void>;
}

export function createContext(config: KilnConfig, name: string, store: ArtifactStore = createStore(config.store)): FarmContext {
  const redis = connectRedis(config.redisUrl, name);
  const keys = redisKeys(config.prefix);
  const queues = new BuildQueues(redis, config.prefix, config.attempts, config.retryDelayMs);
  return {
    config,
    redis,
    keys,
    store,
    builds: new BuildRecords(redis, keys),
    requests: new RequestRecords(redis, keys),
    workers: new WorkerRegistry(redis, keys),
    artifacts: new ArtifactIndex(redis, keys),
    models: new ModelRegistry(redis, keys, store),
    queues,
    async close() {
      await queues.close();
      await store.close?.();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
