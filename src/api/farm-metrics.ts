/**
 * The farm's state as Prometheus gauges, read from Redis when /metrics is scraped (so every API
 * process shows the same farm, and nothing has to be kept in step): builds by state and target,
 * each target's queue (jobs by state, age of the oldest waiting job) and live workers, and every
 * live worker's latest telemetry from its heartbeat (GPU utilisation, memory, temperature, power).
 */
import { Gauge, type Registry } from 'prom-client';
import type { FarmContext } from '../context';
import { BUILD_STATES } from '../state/build-records';

/** Target keys with builds or a live worker. */
async function knownTargets(ctx: FarmContext, live: string[]): Promise<string[]> {
  const found = new Set(live);
  for (const key of await ctx.builds.builtTargets()) found.add(key);
  return [...found].sort();
}

export function registerFarmMetrics(ctx: FarmContext, registry: Registry): void {
  const registers = [registry];
  const builds = new Gauge({ name: 'kiln_builds', help: 'Build records by state and target.', labelNames: ['state', 'target'] as const, registers });
  const queueJobs = new Gauge({ name: 'kiln_queue_jobs', help: "Jobs in a target's queue by state (waiting, active, delayed, failed).", labelNames: ['target', 'state'] as const, registers });
  const oldest = new Gauge({
    name: 'kiln_queue_oldest_job_age_seconds',
    help: "Age of the oldest job waiting in a target's queue (0 when none waits).",
    labelNames: ['target'] as const,
    registers,
  });
  const targetWorkers = new Gauge({ name: 'kiln_target_live_workers', help: 'Live workers serving a target.', labelNames: ['target'] as const, registers });
  const workers = new Gauge({ name: 'kiln_live_workers', help: 'Live workers (heartbeat within three intervals).', registers });
  const telemetry = {
    utilization: new Gauge({ name: 'kiln_worker_utilization_ratio', help: "A worker's GPU (source=gpu) or host CPU (source=cpu) busy share, 0..1, from its latest heartbeat.", labelNames: ['worker', 'source'] as const, registers }),
    memoryUsed: new Gauge({ name: 'kiln_worker_memory_used_bytes', help: "A worker's GPU (or host) memory in use, from its latest heartbeat.", labelNames: ['worker', 'source'] as const, registers }),
    memoryTotal: new Gauge({ name: 'kiln_worker_memory_total_bytes', help: "A worker's GPU (or host) memory, from its latest heartbeat.", labelNames: ['worker', 'source'] as const, registers }),
    temperature: new Gauge({ name: 'kiln_worker_gpu_temperature_celsius', help: "A GPU worker's GPU temperature, from its latest heartbeat.", labelNames: ['worker'] as const, registers }),
    power: new Gauge({ name: 'kiln_worker_gpu_power_watts', help: "A GPU worker's GPU power draw, from its latest heartbeat.", labelNames: ['worker'] as const, registers }),
  };

  // One collect fills every gauge: the readings are taken together, once per scrape.
  let collecting: Promise<void> | null = null;
  const collectAll = async () => {
    const live = await ctx.workers.live();
    const targets = await knownTargets(ctx, live.flatMap((w) => w.targets));
    const counts = ctx.redis.pipeline();
    for (const target of targets) for (const state of BUILD_STATES) counts.zintercard(2, ctx.keys.buildsByState(state), ctx.keys.buildsByTarget(target));
    const [countReplies, queues] = await Promise.all([
      counts.exec(),
      Promise.all(
        targets.map(async (target) => {
          const queue = ctx.queues.queue(target);
          const [depth, waiting] = await Promise.all([
            queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
            queue.getJobs(['wait', 'prioritized'], 0, 0, true),
          ]);
          return { depth, waiting };
        }),
      ),
    ]);
    for (const g of [builds, queueJobs, oldest, targetWorkers, ...Object.values(telemetry)]) g.reset();
    const now = Date.now();
    targets.forEach((target, t) => {
      BUILD_STATES.forEach((state, s) => builds.set({ state, target }, Number(countReplies?.[t * BUILD_STATES.length + s]?.[1] ?? 0)));
      const { depth, waiting } = queues[t];
      queueJobs.set({ target, state: 'waiting' }, (depth.waiting ?? 0) + (depth.prioritized ?? 0));
      for (const state of ['active', 'delayed', 'failed'] as const) queueJobs.set({ target, state }, depth[state] ?? 0);
      const first = waiting.map((j) => j?.timestamp).filter((t): t is number => typeof t === 'number');
      oldest.set({ target }, first.length ? Math.max(0, (now - Math.min(...first)) / 1000) : 0);
      targetWorkers.set({ target }, live.filter((w) => w.targets.includes(target)).length);
    });
    workers.set(live.length);
    for (const w of live) {
      const t = w.telemetry as { source?: string; utilizationPercent?: number | null; memoryUsedBytes?: number | null; memoryTotalBytes?: number | null; temperatureC?: number | null; powerWatts?: number | null } | undefined;
      if (!t?.source) continue;
      const labels = { worker: w.id, source: t.source };
      if (typeof t.utilizationPercent === 'number') telemetry.utilization.set(labels, t.utilizationPercent / 100);
      if (typeof t.memoryUsedBytes === 'number') telemetry.memoryUsed.set(labels, t.memoryUsedBytes);
      if (typeof t.memoryTotalBytes === 'number') telemetry.memoryTotal.set(labels, t.memoryTotalBytes);
      if (typeof t.temperatureC === 'number') telemetry.temperature.set({ worker: w.id }, t.temperatureC);
      if (typeof t.powerWatts === 'number') telemetry.power.set({ worker: w.id }, t.powerWatts);
    }
  };
  // prom-client calls each gauge's collect(); the first starts the reading, the others share it.
  const collect = async () => {
    collecting ??= collectAll().finally(() => setImmediate(() => (collecting = null)));
    await collecting;
  };
  for (const g of [builds, queueJobs, oldest, targetWorkers, workers, ...Object.values(telemetry)]) {
    (g as unknown as { collect: () => Promise<void> }).collect = collect;
  }
}
