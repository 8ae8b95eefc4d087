/**
 * A private farm for one test file: the real API (real HTTP on a free port) and real workers, on
 * the real Redis under a fresh key prefix, with storage in a fresh temp directory (or a given
 * store). `stop()` closes everything and deletes the prefix's keys.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startApi, type RunningApi } from '../../src/api/main';
import { loadConfig, type KilnConfig } from '../../src/config';
import { createContext } from '../../src/context';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { KilnWorker, type WorkerOptions } from '../../src/worker/kiln-worker';
import { allToolchains } from '../../src/worker/toolchains';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const TOKENS = {
  reader: 'reader-token-0123456789abcdef',
  builder: 'builder-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
};

export interface FarmOptions {
  env?: Record<string, string>;
  store?: ArtifactStore;
}

/** Test code reads JSON bodies loosely; assertions check their shape. */
export interface ApiResponse extends Response {
  json(): Promise<any>;
}

export interface TestFarm {
  config: KilnConfig;
  api: RunningApi;
  url: string;
  home: string;
  env: Record<string, string>;
  workers: KilnWorker[];
  startWorker(options?: Partial<WorkerOptions>, env?: Record<string, string>): Promise<KilnWorker>;
  /** fetch against the API with a role's token (or none). */
  request(method: string, urlPath: string, init?: { role?: keyof typeof TOKENS | null; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export async function startFarm(options: FarmOptions = {}): Promise<TestFarm> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'kiln-test-'));
  const prefix = `kt${randomBytes(5).toString('hex')}`;
  const env: Record<string, string> = {
    REDIS_URL,
    KILN_PREFIX: prefix,
    KILN_HOME: home,
    KILN_PORT: '0',
    KILN_TOKENS: `reader:${TOKENS.reader},builder:${TOKENS.builder},admin:${TOKENS.admin}`,
    KILN_HEARTBEAT_MS: '500',
    KILN_LOCK_MS: '4000',
    KILN_STALLED_MS: '1000',
    KILN_SHUTDOWN_GRACE_MS: '2000',
    KILN_LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    ...options.env,
  };
  const config = loadConfig(env);
  const api = await startApi(config, createContext(config, 'kiln-test-api', options.store, { redis: 'request' }));
  const workers: KilnWorker[] = [];

  const farm: TestFarm = {
    config,
    api,
    url: api.url,
    home,
    env,
    workers,
    async startWorker(workerOptions = {}, extraEnv = {}) {
      const workerConfig = loadConfig({ ...env, ...extraEnv, KILN_WORKER_ID: extraEnv.KILN_WORKER_ID ?? `test-worker-${workers.length}` });
      const ctx = createContext(workerConfig, 'kiln-test-worker', options.store);
      const worker = new KilnWorker(workerConfig, ctx, { toolchains: allToolchains(), ...workerOptions });
      await worker.start();
      const stop = worker.stop.bind(worker);
      worker.stop = async (grace?: number) => {
        await stop(grace);
        await ctx.close();
      };
      workers.push(worker);
      return worker;
    },
    async request(method, urlPath, init = {}) {
      const role = init.role === undefined ? 'admin' : init.role;
      const headers: Record<string, string> = { ...init.headers };
      if (role) headers.authorization = `Bearer ${TOKENS[role]}`;
      let body: string | Uint8Array | undefined;
      if (init.body instanceof Uint8Array || typeof init.body === 'string') body = init.body as string | Uint8Array;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] = 'application/json';
      }
      return (await fetch(`${api.url}${urlPath}`, { method, headers, body, redirect: 'manual' })) as ApiResponse;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop(0)));
      await api.close();
      await deletePrefix(prefix);
      await rm(home, { recursive: true, force: true });
    },
  };
  return farm;
}

export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Reads an SSE stream until `until` returns true for an event (or the stream ends). */
export async function readEvents(
  response: Response,
  until: (event: { event: string; data: any }) => boolean,
): Promise<{ event: string; data: any }[]> {
  const events: { event: string; data: any }[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || data === undefined) continue;
        const parsed = { event, data: JSON.parse(data) };
        events.push(parsed);
        if (until(parsed)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Polls a build until it reaches a terminal state (event-driven waits are used where the API streams). */
export async function waitForBuild(farm: TestFarm, id: string, timeoutMs = 60_000): Promise<any> {
  const response = await farm.request('GET', `/v1/builds/${id}/events?log=0`, { role: 'reader' });
  const timer = setTimeout(() => void response.body?.cancel().catch(() => undefined), timeoutMs);
  try {
    await readEvents(response, (e) => e.event === 'state' && ['succeeded', 'failed', 'cancelled'].includes(e.data.state));
  } finally {
    clearTimeout(timer);
  }
  return (await farm.request('GET', `/v1/builds/${id}`, { role: 'reader' })).json();
}
