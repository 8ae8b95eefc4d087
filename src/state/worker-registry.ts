/**
 * Live workers. Each worker keeps a key alive with a heartbeat; a worker is live while its key
 * exists (it expires after three missed beats), so a SIGKILLed worker disappears on its own.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis';

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  /** Where the worker runs: linux-x86_64, linux-aarch64 or windows-x86_64 (absent from workers older than platforms). */
  platform?: string;
  /** Target keys whose queues this worker consumes. */
  targets: string[];
  /** Targets of its hardware the worker does not serve, and why. */
  refused?: { target: string; reason: string }[];
  /** Toolchain -> version, or -> `unavailable: <reason>`. */
  toolchains: Record<string, string>;
  hardware: Record<string, unknown>;
  /** Why a toolchain serves no target here (e.g. no trtexec). */
  notes: string[];
  currentBuild: string | null;
  /** Set while the worker takes no jobs because a dependency is down (src/worker/outage-pause.ts). */
  paused?: { dependency: 'storage'; reason: string; since: string };
  since: string;
  lastBeat: string;
  /** Latest telemetry (GPU utilisation, memory, ...), when the worker has any. */
  telemetry?: Record<string, unknown>;
}

export class WorkerRegistry {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  async beat(info: WorkerInfo, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.worker(info.id), JSON.stringify({ ...info, lastBeat: new Date().toISOString() }), 'PX', ttlMs)
      .sadd(this.keys.workers, info.id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.worker(id)).srem(this.keys.workers, id).exec();
  }

  async live(): Promise<WorkerInfo[]> {
    const ids = await this.redis.smembers(this.keys.workers);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.worker(id)));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length) await this.redis.srem(this.keys.workers, ...gone);
    return values
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as WorkerInfo)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Target keys served by at least one live worker. */
  async liveTargets(): Promise<Set<string>> {
    return new Set((await this.live()).flatMap((w) => w.targets));
  }
}
