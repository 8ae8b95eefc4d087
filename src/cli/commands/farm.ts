/** `kiln workers`, `kiln openapi`, and `kiln api` / `kiln worker`, which run the farm's processes. */
import type { Command } from 'commander';
import type { WorkersAnswer } from '../api-types';
import { contextOf, type Io } from '../context';
import { elapsed, formatSeconds, table } from '../format';

export function registerFarm(program: Command, io: Io): void {
  program
    .command('workers')
    .description('Live workers and the depth of their queues (admin)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<WorkersAnswer>('GET', '/v1/workers');
      ctx.output(answer, () => {
        const unserved = (answer.unserved ?? []).map((u) => `  ${u.target}: ${u.queuedBuilds} queued build${u.queuedBuilds === 1 ? '' : 's'} and no live worker serving it`);
        const waiting = unserved.length ? ['', 'queues with work but no worker:', ...unserved] : [];
        if (answer.workers.length === 0) return ['No live workers; start one with `kiln worker` (or `npm start`)', ...waiting].join('\n');
        const workers = table(
          ['WORKER', 'HOST', 'TARGETS', 'TOOLCHAINS', 'BUILDING', 'UP'],
          answer.workers.map((w) => [
            w.id,
            w.host,
            w.targets.join(','),
            Object.entries(w.toolchains).map(([k, v]) => `${k} ${v}`).join(', '),
            w.paused ? `paused: ${w.paused.dependency} unavailable (${w.paused.reason})` : w.currentBuild ? w.currentBuild.slice(0, 12) : '',
            formatSeconds(elapsed(w.since)),
          ]),
        );
        const notes = answer.workers.flatMap((w) => w.notes.map((n) => `${w.id}: ${n}`));
        const queues = table(
          ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED'],
          Object.entries(answer.queues).map(([target, c]) => [target, (c.waiting ?? 0) + (c.prioritized ?? 0), c.active ?? 0, c.delayed ?? 0, c.failed ?? 0]),
        );
        return [workers, ...(notes.length ? ['notes:', ...notes.map((n) => `  ${n}`)] : []), '', queues, ...waiting].join('\n');
      });
    });

  program
    .command('openapi')
    .description("The API's OpenAPI document (JSON)")
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      ctx.printJson(await ctx.client.json('GET', '/openapi.json'));
    });

  program
    .command('api')
    .description('Run the API in the foreground (configured by the environment: KILN_PORT, REDIS_URL, KILN_STORE, ...)')
    .action(async () => {
      // Required here, not imported at the top, so the client commands never load the server's
      // dependencies (require, not import(): it also works when the CLI runs from source via tsx).
      const { loadConfig } = require('../../config') as typeof import('../../config');
      const { startApi } = require('../../api/main') as typeof import('../../api/main');
      const config = loadConfig();
      const api = await startApi(config);
      io.stderr.write(`[api] listening on ${api.url} (store: ${api.ctx.store.kind}, redis: ${config.redisUrl})\n`);
      const shutdown = () => {
        io.stderr.write('[api] shutting down\n');
        // Forced exit if connections refuse to close; unref'd so it never keeps the process alive.
        setTimeout(() => process.exit(1), 10_000).unref();
        api.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });

  program
    .command('worker')
    .description('Run a worker in the foreground: a CPU worker, or with --gpu one TensorRT worker per GPU')
    .option('--gpu <which>', 'GPUs to build on: all, or NVML indices/UUIDs such as 0,1 (Default: KILN_GPUS, else none: a CPU worker)')
    .action(async (flags: { gpu?: string }) => {
      const { runWorker } = require('../../worker/main') as typeof import('../../worker/main');
      await runWorker({ gpu: flags.gpu });
    });
}
