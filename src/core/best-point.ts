/**
 * A sweep's best point per target: once every point of the target is done, the fastest by the
 * request's metric among the points whose validation passed, with how far ahead of the runner-up
 * it is. Points that failed, were refused or measured nothing usable are excluded, each with why.
 * Decided from the build records on every read, so it is never stale and needs no writer.
 */
import type { BenchmarkRow, BuildReport } from './report';
import type { BestMetric } from './sweep';

/** One point of a sweep as its build stands now. */
export interface PointOutcome {
  /** The point's index in the request's list. */
  point: number;
  target: string;
  values: Record<string, unknown>;
  buildKey?: string;
  /** Index into the build's benchmark runtimes, when the point is one of several runtime settings of one artifact. */
  runtime?: number;
  /** queued | active | succeeded | failed | cancelled, or refused (never built: the target does not accept the point). */
  state: string;
  verdict?: string;
  error?: string;
  report?: BuildReport;
}

export interface PointScore {
  point: number;
  values: Record<string, unknown>;
  buildKey: string;
  runtime?: number;
  /** The runtime settings the point measured with, when it is one of several of its artifact. */
  settings?: Record<string, unknown>;
  /** ms of p50 latency, or samples per second. */
  value: number;
  batch: number;
  /** Validation's verdict (pass or warn). */
  verdict: string;
}

export interface TargetBest {
  target: string;
  /** pending: some point is still queued or running; decided: a best point; none: no point qualified. */
  state: 'pending' | 'decided' | 'none';
  metric: BestMetric['metric'];
  best?: PointScore;
  runnerUp?: PointScore;
  /** How far ahead of the runner-up the best is, in percent (marginOf). */
  marginPercent?: number;
  /** Every qualified point, best first. */
  ranked: PointScore[];
  excluded: { point: number; values: Record<string, unknown>; reason: string }[];
}

const PASSED = new Set(['pass', 'warn']);

function rowsOf(outcome: PointOutcome): { rows: BenchmarkRow[]; settings?: Record<string, unknown> } | null {
  const benchmark = outcome.report?.benchmark;
  if (!benchmark) return null;
  if (outcome.runtime === undefined) return { rows: benchmark.rows };
  const runtime = benchmark.runtimes?.[outcome.runtime];
  return runtime ? { rows: runtime.rows, settings: runtime.settings } : null;
}

/** Why a finished point does not compete, or its score. */
function score(outcome: PointOutcome, metric: BestMetric): PointScore | string {
  if (outcome.state === 'refused') return `refused: ${outcome.error ?? 'the target does not accept these options'}`;
  if (outcome.state !== 'succeeded') return `build ${outcome.state}${outcome.error ? `: ${outcome.error}` : ''}`;
  const verdict = outcome.report?.validation?.verdict ?? outcome.verdict;
  if (!verdict || !PASSED.has(verdict)) return verdict ? `validation ${verdict}` : 'not validated';
  const measured = rowsOf(outcome);
  if (!measured || measured.rows.length === 0) return 'not benchmarked';
  const batch = metric.batch ?? Math.min(...measured.rows.map((r) => r.batch));
  const row = measured.rows.find((r) => r.batch === batch);
  if (!row) return `no measurement at batch ${batch} (measured: ${measured.rows.map((r) => r.batch).join(', ')})`;
  return {
    point: outcome.point,
    values: outcome.values,
    buildKey: outcome.buildKey!,
    runtime: outcome.runtime,
    settings: measured.settings,
    value: metric.metric === 'latency' ? row.latencyMs.median : row.throughputSps,
    batch,
    verdict,
  };
}

/**
 * How far ahead the best is, in percent: for latency, how much longer the runner-up takes than the
 * best; for throughput, how much more the best serves than the runner-up.
 */
export function marginOf(metric: BestMetric['metric'], best: number, runnerUp: number): number {
  const ratio = metric === 'latency' ? runnerUp / best : best / runnerUp;
  return Number.isFinite(ratio) ? (ratio - 1) * 100 : 0;
}

export function bestPoint(target: string, outcomes: PointOutcome[], metric: BestMetric): TargetBest {
  const pending = outcomes.some((o) => o.state === 'queued' || o.state === 'active');
  const ranked: PointScore[] = [];
  const excluded: TargetBest['excluded'] = [];
  for (const o of outcomes) {
    if (o.state === 'queued' || o.state === 'active') continue;
    const s = score(o, metric);
    if (typeof s === 'string') excluded.push({ point: o.point, values: o.values, reason: s });
    else ranked.push(s);
  }
  const better = metric.metric === 'latency' ? (a: PointScore, b: PointScore) => a.value - b.value : (a: PointScore, b: PointScore) => b.value - a.value;
  ranked.sort((a, b) => better(a, b) || a.point - b.point);
  const out: TargetBest = { target, state: pending ? 'pending' : ranked.length ? 'decided' : 'none', metric: metric.metric, ranked, excluded };
  if (out.state !== 'decided') return out;
  out.best = ranked[0];
  if (ranked.length > 1) {
    out.runnerUp = ranked[1];
    out.marginPercent = marginOf(metric.metric, ranked[0].value, ranked[1].value);
  }
  return out;
}
