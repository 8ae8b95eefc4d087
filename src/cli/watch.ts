/** `--watch`: follows several builds at once with a live display, then reads their final records. */
import { isTerminal, type BuildAnswer, type BuildRecord } from './api-types';
import type { CliContext } from './context';
import { followBuild } from './follow';
import { elapsed, formatMs, formatSeconds, shortId, table } from './format';
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

/** One line per build: its outcome, how long it took, and what the artifact measured. */
export function summaryTable(records: BuildRecord[]): string {
  return table(
    ['TARGET', 'STATE', 'VERDICT', 'TIME', 'LATENCY', 'SAMPLES/S', 'BUILD', 'ERROR'],
    records.map((r) => {
      const { latency, throughput } = benchmarkSummary(r);
      return [
        r.targetKey,
        r.state,
        r.verdict,
        isTerminal(r.state) ? formatSeconds(elapsed(r.startedAt ?? r.createdAt, r.finishedAt ?? r.updatedAt)) : '-',
        latency,
        throughput,
        shortId(r.buildKey),
        r.error,
      ];
    }),
  );
}

/**
 * Latency: the median at the smallest batch measured (batch 1 when the batch dim is dynamic), the
 * number an interactive client feels. Throughput: the most samples per second any batch reached.
 */
export function benchmarkSummary(r: Pick<BuildRecord, 'report'>): { latency?: string; throughput?: string } {
  const rows = r.report?.benchmark?.rows ?? [];
  if (rows.length === 0) return {};
  const smallest = rows.reduce((a, b) => (b.batch < a.batch ? b : a));
  const best = rows.reduce((a, b) => (b.throughputSps > a.throughputSps ? b : a));
  const sps = Number.isFinite(best.throughputSps) ? best.throughputSps : undefined;
  return {
    latency: Number.isFinite(smallest.latencyMs?.median) ? `${formatMs(smallest.latencyMs.median)} (batch ${smallest.batch})` : undefined,
    throughput: sps === undefined ? undefined : `${sps >= 100 ? Math.round(sps) : sps.toFixed(1)} (batch ${best.batch})`,
  };
}
