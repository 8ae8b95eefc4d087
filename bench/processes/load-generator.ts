/**
 * Bench child: generates load on its own event loop (and core), so the servers under test never
 * share one with their clients. Jobs: `paced` (a fixed rate, open loop: see paced-load.ts) and
 * `max` (autocannon: see max-load.ts).
 */
import { childSetup, serveJobs } from '../lib/child';
import { runMax, type MaxOptions } from '../lib/max-load';
import { runPaced, type PacedOptions } from '../lib/paced-load';

async function main(): Promise<void> {
  await childSetup(async () => undefined);
  serveJobs(async (job) => {
    if (job.kind === 'paced') return runPaced(job.options as PacedOptions);
    if (job.kind === 'max') return runMax(job.options as MaxOptions);
    throw new Error(`Expected a job kind of paced or max but received ${String(job.kind)}`);
  });
  process.send?.({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});
