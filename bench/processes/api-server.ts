/** Bench child: the real Kiln API (startApi), configured by the parent's env object over IPC. */
import { startApi, type RunningApi } from '../../src/api/main';
import { loadConfig } from '../../src/config';
import { childSetup } from '../lib/child';

let api: RunningApi | undefined;

async function main(): Promise<void> {
  const setup = await childSetup<{ env: Record<string, string> }>(async () => {
    await api?.close();
  });
  api = await startApi(loadConfig(setup.env));
  process.send?.({ type: 'ready', url: api.url });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});
