/**
 * What `npm test` needs before the first test runs, found or started in its first seconds:
 * - Chromium for the dashboard's end-to-end tests: KILN_CHROMIUM, else `chromium` (or
 *   `chromium-browser`) on the PATH; when absent and this is root on a machine with apt, Debian's
 *   `chromium` package is installed; otherwise the run stops with the fix named.
 * - Redis: REDIS_URL (default 127.0.0.1:6379) when it answers, else a private throwaway
 *   `redis-server` on a free port for this run (as `npm start` does), else the run stops.
 * A failure is one TestSetupError whose message names the fix, never a wall of failing tests.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { redisAnswers, redisServerInstalled, startPrivateRedis, type PrivateRedis } from '../src/local-redis';

export class TestSetupError extends Error {
  override name = 'TestSetupError';
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const CHROMIUM_NAMES = ['chromium', 'chromium-browser'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `name` on `searchPath` that can be executed, or null. */
export function onPath(names: string[], searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const file = path.join(dir, name);
      if (executable(file)) return file;
    }
  }
  return null;
}

export function findChromium(env: NodeJS.ProcessEnv): string | null {
  if (env.KILN_CHROMIUM) {
    if (executable(env.KILN_CHROMIUM)) return env.KILN_CHROMIUM;
    throw new TestSetupError(
      `Expected KILN_CHROMIUM to name an executable Chromium but received ${env.KILN_CHROMIUM}, which is not one.\n` +
        "  Fix: point KILN_CHROMIUM at Chromium's binary (Debian: /usr/bin/chromium), or unset it to use the PATH's chromium.",
    );
  }
  return onPath(CHROMIUM_NAMES, env.PATH);
}

export interface ChromiumOptions {
  /** Where progress goes (the apt-get output goes to the terminal). */
  say: (line: string) => void;
}

/** Chromium's path; installs Debian's package when it can (root, apt-get on the PATH). */
export function ensureChromium(env: NodeJS.ProcessEnv, options: ChromiumOptions): string {
  const found = findChromium(env);
  if (found) return found;
  const aptGet = onPath(['apt-get'], env.PATH);
  const root = process.getuid?.() === 0;
  if (!aptGet || !root) {
    const why = !aptGet ? 'there is no apt-get on the PATH' : 'this is not root';
    throw new TestSetupError(
      `The dashboard tests need Chromium, and none was found (KILN_CHROMIUM is unset and no chromium is on the PATH); ${why}, so it was not installed.\n` +
        '  Fix: install Debian\'s chromium (`sudo apt-get install -y chromium`), or set KILN_CHROMIUM to a Chromium binary, then run `npm test` again.',
    );
  }
  options.say("Chromium not found: installing Debian's chromium package (apt-get update && apt-get install -y chromium)");
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const run = spawnSync(aptGet, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) {
      throw new TestSetupError(`\`apt-get ${args.join(' ')}\` failed (exit ${run.status ?? run.signal}).\n  Fix: install Chromium by hand (\`apt-get install -y chromium\`) or set KILN_CHROMIUM, then run \`npm test\` again.`);
    }
  }
  const installed = findChromium(env);
  if (!installed) throw new TestSetupError("Installed Debian's chromium but no chromium is on the PATH.\n  Fix: set KILN_CHROMIUM to its binary (usually /usr/bin/chromium).");
  return installed;
}

export interface TestRedis {
  url: string;
  /** The private redis-server started for this run, if one was. */
  started: PrivateRedis | null;
}

/** REDIS_URL when it answers; else a throwaway private redis-server; else a TestSetupError naming the fix. */
export async function ensureRedis(env: NodeJS.ProcessEnv): Promise<TestRedis> {
  const url = env.REDIS_URL || DEFAULT_REDIS_URL;
  if (await redisAnswers(url)) return { url, started: null };
  if (!redisServerInstalled(env)) {
    throw new TestSetupError(
      `The tests need Redis: nothing answers at ${url} and no redis-server is on the PATH to start a private one.\n` +
        '  Fix: start Redis on 127.0.0.1:6379 (`redis-server --daemonize yes`) or set REDIS_URL to one, ' +
        'or install redis-server (`sudo apt-get install -y redis-server`) so `npm test` can start its own.',
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-test-redis-'));
  const started = await startPrivateRedis({ dir, persistent: false, env });
  return { url: started.url, started };
}
