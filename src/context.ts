/**
 * The farm's shared services, built once per process from the configuration: Redis, storage, the
 * state kept in Redis and the queues. The API and the worker each hold one.
 */
import type { Redis } from 'ioredis';
import type { KilnConfig } from './config';
import { createLogger, type Logger } from './log';
import { ProcessMetrics } from './metrics/process-metrics';
import { BuildQueues } from './queue/build-queues';
import { ArtifactIndex } from './state/artifact-index';
import { BuildRecords } from './state/build-records';
import { ModelRegistry } from './state/model-registry';
import { connectRedis, redisKeys, type RedisConnectionKind, type RedisKeys } from './state/redis';
import { RequestRecords } from './state/requests';
import { WorkerRegistry } from './state/worker-registry';
import type { ArtifactStore } from './storage/artifact-store';
import { createStore } from './storage/create-store';
import { guardStore } from './storage/guarded-store';

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
  log: Logger;
  metrics: ProcessMetrics;
  close(): Promise<void>;
}

export interface ContextOptions {
  /**
   * `request`: the API's connection, which fails a command within seconds while Redis is down, so
   * a request answers 503 instead of hanging; `worker`: BullMQ workers' connection, which waits
   * for Redis to come back (BullMQ requires it). (Default: worker)
   */
  redis?: RedisConnectionKind;
}

export function createContext(config: KilnConfig, name: string, rawStore: ArtifactStore = createStore(config.store), options: ContextOptions = {}): FarmContext {
  const log = createLogger(config.logLevel, name);
  const metrics = new ProcessMetrics();
  const redis = connectRedis(config.redisUrl, name, { kind: options.redis ?? 'worker', commandTimeoutMs: config.redisTimeoutMs });
  redis.on('error', (err: Error) => {
    metrics.redisErrors.inc();
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis connection error');
  });
  const store = guardStore(rawStore, (operation) => metrics.storageErrors.inc({ operation }));
  const keys = redisKeys(config.prefix);
  const queues = new BuildQueues(redis, config.prefix, config.attempts, config.retryDelayMs);
  return {
    config,
    redis,
    keys,
    store,
    log,
    metrics,
    builds: new BuildRecords(redis, keys),
    requests: new RequestRecords(redis, keys, store),
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
