/** The worker process: `npm run start:worker` (or `kiln worker`). */
import { loadConfig } from '../config';
import { createContext } from '../context';
import { KilnWorker } from './kiln-worker';
import { allToolchains } from './toolchains';

export async function runWorker(): Promise<void> {
  const config = loadConfig();
  const ctx = createContext(config, 'kiln-worker');
  const worker = new KilnWorker(config, ctx, { toolchains: allToolchains() });
  await worker.start();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker ${worker.id}] ${signal}: finishing or handing back the current build`);
    // Forced exit past the grace period plus a margin; unref'd so it never keeps the process alive.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 15_000).unref();
    worker
      .stop()
      .then(() => ctx.close())
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(`[worker] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
