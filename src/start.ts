/**
 * `npm start`: the whole farm on one machine. The API and a CPU worker run as separate processes
 * (a crashing worker never takes the API down) and are restarted if they die. Redis is the one at
 * REDIS_URL; when nothing answers there and `redis-server` is on the PATH, a private one is started
 * with its data under .kiln/redis. Without configured tokens an admin token is generated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type KilnConfig } from './config';
import { redisAnswers, redisServerInstalled, startPrivateRedis } from './local-redis';
import { createLogger, type Logger } from './log';

const SECOND = 1000;

async function ensureRedis(config: KilnConfig, children: ChildProcess[], log: Logger): Promise<string> {
  if (await redisAnswers(config.redisUrl)) return config.redisUrl;
  if (!redisServerInstalled()) {
    throw new Error(
      `Nothing answers at REDIS_URL=${config.redisUrl} and no redis-server is on the PATH.\n` +
        '  Fix: start Redis (e.g. `docker compose up -d redis`, or `redis-server`) and set REDIS_URL, or\n' +
        '       install redis-server (e.g. `apt-get install redis-server`) so Kiln can start a private one.',
    );
  }
  const dir = path.join(config.home, 'redis');
  const redis = await startPrivateRedis({ dir, persistent: true });
  children.push(redis.process);
  log.info({ redisUrl: redis.url, dir }, `nothing answered at ${config.redisUrl}; started a private redis-server at ${redis.url} (data in ${dir})`);
  return redis.url;
}

function adminToken(config: KilnConfig): string | null {
  if (config.tokens.length > 0) return null;
  const file = path.join(config.home, 'admin-token');
  const token = existsSync(file) ? readFileSync(file, 'utf8').trim() : `kiln_${randomBytes(24).toString('base64url')}`;
  mkdirSync(config.home, { recursive: true });
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/** Runs an entry point (compiled JS, or TypeScript under tsx in development) and restarts it if it dies. */
function supervise(name: string, entry: string, env: NodeJS.ProcessEnv, children: ChildProcess[], stopping: () => boolean, log: Logger): void {
  const file = path.join(__dirname, `${entry}${path.extname(__filename)}`);
  let restarts = 0;
  const launch = () => {
    const child = spawn(process.execPath, [...process.execArgv, file], { env, stdio: 'inherit' });
    children.push(child);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping()) return;
      restarts = Date.now() - startedAt > 60 * SECOND ? 0 : restarts + 1;
      const delay = Math.min(30 * SECOND, 500 * 2 ** restarts);
      log.error({ process: name, exit: signal ?? code, restartInMs: delay }, `${name} exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(launch, delay);
    });
  };
  launch();
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'kiln');
  const children: ChildProcess[] = [];
  let stopping = false;
  const redisUrl = await ensureRedis(config, children, log);
  const token = adminToken(config);
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, KILN_HOME: config.home };
  if (token) {
    env.KILN_TOKENS = `admin:${token}`;
    // For the person at the terminal, not for the log: plain text, as the CLI prints.
    process.stdout.write(`no KILN_TOKENS configured: generated an admin token (saved in ${path.join(config.home, 'admin-token')}):\n\n    export KILN_TOKEN=${token}\n\n`);
  }
  supervise('api', 'api/main', env, children, () => stopping, log);
  supervise('worker', 'worker/main', env, children, () => stopping, log);

  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    const workers = children.filter((c) => c.spawnfile !== 'redis-server');
    for (const child of workers) child.kill('SIGTERM');
    const redis = children.find((c) => c.spawnfile === 'redis-server');
    Promise.all(workers.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() => {
      redis?.kill('SIGTERM');
      process.exit(0);
    });
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 20 * SECOND).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err) => {
  // The reason npm start could not start (no Redis, a bad variable) is for the person who ran it.
  process.stderr.write(`[kiln] ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
