/**
 * `npm start`: the whole farm on one machine. The API and a CPU worker run as separate processes
 * (a crashing worker never takes the API down) and are restarted if they die. Redis is the one at
 * REDIS_URL; when nothing answers there and `redis-server` is on the PATH, a private one is started
 * with its data under .kiln/redis. Without configured tokens an admin token is generated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { adminTokenFile, ensureAdminToken } from './admin-token';
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

/** Resolves once GET /healthz answers at all (any status: the API is listening), false after `timeoutMs`. */
async function apiAnswers(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/healthz`, { timeout: 2 * SECOND }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (answered) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * What to do next, printed once the API answers, so it is the last thing on the screen rather
 * than lost above the processes' start-up lines.
 */
async function announce(config: KilnConfig, token: string | null): Promise<void> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  const up = config.port !== 0 && (await apiAnswers(url, 60 * SECOND));
  const lines = ['', up ? '[kiln] the farm is up:' : '[kiln] the API has not answered yet; when it does:'];
  if (config.port === 0) lines.push('    the API listens on the port it printed above ([api] listening on ...)');
  else {
    lines.push(`    dashboard  ${url}/dashboard`);
    lines.push(`    API        ${url}${config.port === 8080 && host === '127.0.0.1' ? '' : `   (for the CLI: export KILN_URL=${url})`}`);
  }
  if (token) {
    const file = path.relative(process.cwd(), adminTokenFile(config.home)) || adminTokenFile(config.home);
    lines.push(`    token      ${file} holds the admin token (no KILN_TOKENS were set); for the CLI:`, '', `    export KILN_TOKEN=${token}`);
  }
  // For the person at the terminal, not for the log: plain text, as the CLI prints.
  process.stdout.write(lines.join('\n') + '\n\n');
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
  const token = ensureAdminToken(config);
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, KILN_HOME: config.home };
  if (token) env.KILN_TOKENS = `admin:${token}`;
  supervise('api', 'api/main', env, children, () => stopping, log);
  supervise('worker', 'worker/main', env, children, () => stopping, log);
  void announce(config, token);

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
