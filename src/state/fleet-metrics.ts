/**
 * Workers' own Prometheus numbers, carried through Redis so that the API's /metrics shows the
 * whole fleet from one scrape target. Each worker writes its registry (prom-client's JSON form,
 * every series labelled with its worker id) next to its heartbeat, with the heartbeat's TTL, and
 * after each build; the API merges the live workers' snapshots with its own on each scrape.
 *
 * Why through Redis rather than an endpoint per worker: GPU workers run several to a machine, in
 * containers, often behind NAT, and come and go; they already reach Redis and nothing else needs
 * to reach them. A stopped worker's series end with its heartbeat, as a target's do in Prometheus.
 */
import type { Redis } from 'ioredis';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { RedisKeys } from './redis';

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export function workerMetricsKey(keys: RedisKeys, workerId: string): string {
  return `${keys.worker(workerId)}:metrics`;
}

export async function pushWorkerMetrics(redis: Redis, keys: RedisKeys, workerId: string, registry: Registry, ttlMs: number): Promise<void> {
  const snapshot = (await registry.getMetricsAsJSON()) as MetricsSnapshot;
  await redis.set(workerMetricsKey(keys, workerId), JSON.stringify(snapshot), 'PX', ttlMs);
}

/** The snapshots of the given (live) workers; a worker without one is left out. */
export async function readWorkerMetrics(redis: Redis, keys: RedisKeys, workerIds: string[]): Promise<MetricsSnapshot[]> {
  if (workerIds.length === 0) return [];
  const values = await redis.mget(workerIds.map((id) => workerMetricsKey(keys, id)));
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as MetricsSnapshot);
}
