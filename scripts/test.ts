/**
 * `npm test`: finds or starts what the tests need (scripts/test-setup.ts), then runs the type
 * checker and jest with the arguments given (`npm test -- test/api`). A private Redis started for
 * the run is stopped at the end. `--check` only does the setup and says what it found.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureChromium, ensureRedis, TestSetupError } from './test-setup';

const ROOT = path.resolve(__dirname, '..');
const say = (line: string) => process.stderr.write(`[npm test] ${line}\n`);

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve(command, { paths: [ROOT] }), ...args], { cwd: ROOT, env, stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; the private Redis is still stopped after.
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv: string[]): Promise<number> {
  const checkOnly = argv.includes('--check');
  const chromium = ensureChromium(process.env, { say });
  const redis = await ensureRedis(process.env);
  if (redis.started) say(`nothing answered at ${process.env.REDIS_URL || 'redis://127.0.0.1:6379'}; started a private redis-server at ${redis.url} for this run`);
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url, KILN_CHROMIUM: chromium };
  try {
    if (checkOnly) {
      say(`ready: chromium ${chromium}, redis ${redis.url}`);
      return 0;
    }
    const typecheck = await run('typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit'], env);
    if (typecheck !== 0) return typecheck;
    return await run('jest/bin/jest', argv, env);
  } finally {
    if (redis.started) {
      await redis.started.stop();
      await rm(redis.started.dir, { recursive: true, force: true });
    }
  }
}

process.on('SIGINT', () => undefined);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    say(err instanceof TestSetupError ? err.message : `setup failed: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  },
);
