/** A sweep's points and best points as the CLI prints them. */
import type { RequestAnswer } from './api-types';
import { shortId, table } from './format';

type SweepAnswer = NonNullable<RequestAnswer['sweep']>;

/** `graphOptimizationLevel=all intraOpNumThreads=2`: the last part of each path is enough to read. */
export function pointLabel(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([path, v]) => `${path.split('.').pop()}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

const valueOf = (metric: string, value: number) => (metric === 'latency' ? `${value.toFixed(3)} ms p50` : `${value.toFixed(1)} samples/s`);

export function describeBest(sweep: SweepAnswer): string {
  const rows = sweep.targets.map((t) => {
    if (t.state === 'pending') return [t.target, 'pending', 'points still queued or running', '', ''];
    if (t.state === 'none' || !t.best) return [t.target, 'none', `no point qualified (${t.excluded.length} excluded)`, '', ''];
    const margin = t.marginPercent === undefined ? 'only point' : `${t.marginPercent.toFixed(1)}% ahead of ${pointLabel(t.runnerUp!.values)}`;
    return [t.target, pointLabel(t.best.values), `${valueOf(t.metric, t.best.value)} at batch ${t.best.batch}`, margin, shortId(t.best.buildKey)];
  });
  const excluded = sweep.targets.flatMap((t) => t.excluded.map((e) => [t.target, pointLabel(e.values), e.reason]));
  const best = `best points (by ${sweep.best.metric}${sweep.best.batch ? ` at batch ${sweep.best.batch}` : ''}; \`kiln fetch\` or GET /v1/resolve?request=ID serves them)\n${table(['TARGET', 'BEST POINT', 'MEASURED', 'MARGIN', 'BUILD'], rows)}`;
  return excluded.length ? `${best}\n\nexcluded points\n${table(['TARGET', 'POINT', 'WHY'], excluded)}` : best;
}
