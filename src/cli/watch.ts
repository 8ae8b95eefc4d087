/** `--watch`: follows several builds at once with a live display, then reads their final records. */
import { isTerminal, type BuildAnswer, type BuildRecord } from './api-types';
import type { CliContext } from './context';
import { followBuild } from './follow';
import { elapsed, formatSeconds, shortId, table } from './format';
import { chooseDisplay } from './progress';

export interface WatchOptions {
  log?: boolean;
}

export async function watchBuilds(ctx: CliContext, builds: { buildKey: string; target: string }[], options: WatchOptions = {}): Promise<BuildAnswer[]> {
  const display = chooseDisplay(ctx.io, ctx.json);
  for (const b of builds) display.add(b.buildKey, b.target);
  const controller = new AbortController();
  // Ctrl-C stops watching, not the builds; the bars are torn down so the terminal is left clean.
  const onSigint = () => {
    controller.abort();
    display.stop();
    ctx.note('\nStopped watching; the builds go on. Follow them again with `kiln status BUILD --watch`.');
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const results = await Promise.allSettled(
      builds.map((b) =>
        followBuild(ctx.client, b.buildKey, (event) => (event.type !== 'log' || options.log) && display.event(b.buildKey, event), { log: options.log, signal: controller.signal }).catch((err) => {
          controller.abort(); // one failure ends the watch; the others stop too
          throw err;
        }),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  } finally {
    process.removeListener('SIGINT', onSigint);
    display.stop();
  }
  return Promise.all(builds.map((b) => ctx.client.json<BuildAnswer>('GET', `/v1/builds/${b.buildKey}`)));
}

/** Whether every build ended well (exit status 0). */
export function allSucceeded(records: Pick<BuildRecord, 'state'>[]): boolean {
  return records.every((r) => r.state === 'succeeded');
}

export function summaryTable(records: BuildRecord[]): string {
  return table(
    ['TARGET', 'STATE', 'VERDICT', 'TIME', 'BUILD', 'ERROR'],
    records.map((r) => [
      r.targetKey,
      r.state,
      r.verdict,
      isTerminal(r.state) ? formatSeconds(elapsed(r.startedAt ?? r.createdAt, r.finishedAt ?? r.updatedAt)) : '-',
      shortId(r.buildKey),
      r.error,
    ]),
  );
}
