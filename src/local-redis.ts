/**
 * Redis on this machine, for `npm start` and `npm test`: whether a Redis answers at a URL, and a
 * private `redis-server` on a free loopback port when none does. `npm start` keeps its private
 * Redis's data (AOF) under .kiln/redis; the test run's is throwaway.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';

const SECOND = 1000;

export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2 * SECOND });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether `redis-server` can be run from this process's PATH (or the given one). */
export function redisServerInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !spawnSync('redis-server', ['--version'], { env }).error;
}

export interface PrivateRedis {
  url: string;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Its working directory (AOF files when persistent). */
  dir: string;
  /** AOF on, as a farm's Redis must be; off for a test run's throwaway one. */
  persistent: boolean;
  /** (Default: a free one) */
  port?: number;
  env?: NodeJS.ProcessEnv;
}

/** Starts `redis-server` on a free loopback port and waits until it answers. */
export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  // noeviction: BullMQ needs every key it wrote to stay.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--maxmemory-policy', 'noeviction', '--save', ''];
  args.push('--appendonly', options.persistent ? 'yes' : 'no');
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], env: options.env ?? process.env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(url)) return { url, dir: options.dir, process: child, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`Started redis-server on port ${port} but it did not answer within 5 s`);
}
