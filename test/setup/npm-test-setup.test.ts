/**
 * `npm test` on a fresh machine: scripts/test.ts --check runs the real setup in a child process
 * with a PATH and REDIS_URL that point at nothing, and must stop within seconds with the fix named;
 * with redis-server installed but nothing answering, it starts a private Redis that really answers.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/local-redis';
import { ensureRedis } from '../../scripts/test-setup';

const ROOT = path.resolve(__dirname, '../..');
const EMPTY_PATH = path.join(ROOT, 'test', 'setup', 'no-such-dir');

function runCheck(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/test.ts', '--check'], { cwd: ROOT, env: { HOME: process.env.HOME ?? '/root', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - started }));
  });
}

async function closedRedisUrl(): Promise<string> {
  return `redis://127.0.0.1:${await freePort()}`;
}

describe('npm test setup', () => {
  test('without Chromium (and no apt-get to install it) it stops at once, naming the fix', async () => {
    const result = await runCheck({ PATH: EMPTY_PATH });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The dashboard tests need Chromium, and none was found');
    expect(result.stderr).toContain('apt-get install -y chromium');
    expect(result.stderr).toContain('KILN_CHROMIUM');
    // One message, not a run of failing tests: the type checker and jest never started.
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
    expect(result.ms).toBeLessThan(15_000);
  });

  test('a KILN_CHROMIUM that is not an executable is refused with what was expected', async () => {
    const result = await runCheck({ PATH: EMPTY_PATH, KILN_CHROMIUM: path.join(EMPTY_PATH, 'chromium') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Expected KILN_CHROMIUM to name an executable Chromium');
  });

  test('without Redis (nothing answers, no redis-server to start) it stops at once, naming the fix', async () => {
    const result = await runCheck({ PATH: EMPTY_PATH, KILN_CHROMIUM: process.execPath, REDIS_URL: await closedRedisUrl() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The tests need Redis: nothing answers at redis://127.0.0.1:');
    expect(result.stderr).toContain('apt-get install -y redis-server');
    expect(result.ms).toBeLessThan(15_000);
  });

  test('with redis-server installed but nothing answering, a private Redis is started for the run and answers', async () => {
    const redis = await ensureRedis({ ...process.env, REDIS_URL: await closedRedisUrl() });
    expect(redis.started).not.toBeNull();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.ping()).toBe('PONG');
      // Throwaway: nothing is persisted for a test run.
      expect((await client.config('GET', 'appendonly'))[1]).toBe('no');
    } finally {
      client.disconnect();
      await redis.started!.stop();
    }
    expect(redis.started!.process.exitCode !== null || redis.started!.process.signalCode !== null).toBe(true);
  });

  test('a Redis that answers at REDIS_URL is used as it is', async () => {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const redis = await ensureRedis({ ...process.env, REDIS_URL: url });
    expect(redis).toEqual({ url, started: null });
  });
});
