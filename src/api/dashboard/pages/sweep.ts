/**
 * A sweep request's view: per target, the best point and its margin, a table of every point
 * (swept values, state, validation, the metric, the accuracy against the reference) and a
 * latency-vs-accuracy scatter with the best point marked. Rows follow their builds live (live.js);
 * the section is re-rendered when a build changes state, so the best point shows once decided.
 */
import type { PointOutcome, TargetBest } from '../../../core/best-point';
import type { SweepResults } from '../../sweep-results';
import { dataBlock, html, type Html } from '../html';
import { section, stateBadge } from './components';

/** The largest absolute error of any output against the reference: the accuracy the scatter plots. */
export function maxAbsError(point: PointOutcome): number | null {
  const outputs = point.report?.validation?.outputs;
  if (!outputs?.length) return null;
  return Math.max(...outputs.map((o) => o.maxAbsError));
}

/** p50 latency at the batch that decides (the metric's batch, else the smallest measured). */
function latencyOf(point: PointOutcome, batch: number | undefined): number | null {
  const benchmark = point.report?.benchmark;
  const rows = point.runtime !== undefined ? benchmark?.runtimes?.[point.runtime]?.rows : benchmark?.rows;
  if (!rows?.length) return null;
  const b = batch ?? Math.min(...rows.map((r) => r.batch));
  return rows.find((r) => r.batch === b)?.latencyMs.median ?? null;
}

const valueText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const shortPath = (path: string) => path.split('.').pop()!;
const pointName = (values: Record<string, unknown>) => Object.entries(values).map(([p, v]) => `${shortPath(p)}=${valueText(v)}`).join(' ');
const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '—' : v.toPrecision(digits));

function verdictLine(t: TargetBest): Html {
  if (t.state === 'pending') return html`<p class="small muted">Some points are still queued or running; the best point is named when all are done.</p>`;
  if (t.state === 'none' || !t.best) return html`<p><strong>No point qualified</strong>: every point failed, was refused or measured nothing at the deciding batch (see the table).</p>`;
  const unit = t.metric === 'latency' ? 'ms p50' : 'samples/s';
  return html`<p class="sweep-best">Best point: <strong class="mono">${pointName(t.best.values)}</strong>, ${fmt(t.best.value, 4)} ${unit} at batch ${t.best.batch}${
    t.runnerUp ? html`, ${t.marginPercent!.toFixed(1)}% ahead of <span class="mono">${pointName(t.runnerUp.values)}</span>` : ''
  }. <span class="small muted">Served by <code>GET /v1/resolve?request=…</code> and <code>MODEL@best</code>.</span></p>`;
}

function scatter(id: string, t: TargetBest, points: PointOutcome[], batch: number | undefined): Html {
  const dots = points
    .map((p) => ({ p, x: latencyOf(p, batch), y: maxAbsError(p) }))
    .filter((d): d is { p: PointOutcome; x: number; y: number } => d.x !== null && d.y !== null);
  if (dots.length === 0) return html``;
  const best = t.best?.point;
  const asPoint = (d: (typeof dots)[number]) => ({ x: d.x, y: d.y, label: pointName(d.p.values) });
  const spec = {
    type: 'scatter',
    datasets: [
      { label: 'points', points: dots.filter((d) => d.p.point !== best).map(asPoint), color: '#1d4ed8' },
      ...(best !== undefined ? [{ label: 'best point', points: dots.filter((d) => d.p.point === best).map(asPoint), color: '#b45309', radius: 9, pointStyle: 'star' }] : []),
    ],
    x: { title: `p50 latency (ms) at batch ${t.best?.batch ?? batch ?? 'smallest'}`, linear: true },
    y: { title: 'max abs error vs reference', linear: true, min: 0 },
  };
  return html`<figure class="chart"><figcaption>Latency vs accuracy (lower left is better)</figcaption>
    <div class="chart-box" style="height:280px"><canvas id="${id}" data-chart="${id}-data" role="img" aria-label="Latency vs accuracy of each point (the numbers are in the table)"></canvas></div>
    ${dataBlock(`${id}-data`, spec)}</figure>`;
}

function pointRow(p: PointOutcome, axes: string[], t: TargetBest, batch: number | undefined): Html {
  const rank = t.ranked.findIndex((r) => r.point === p.point);
  const excluded = t.excluded.find((e) => e.point === p.point);
  const scored = rank >= 0 ? t.ranked[rank] : undefined;
  const note = p.point === t.best?.point ? html`<strong>best</strong>` : p.point === t.runnerUp?.point ? 'runner-up' : excluded?.reason ?? (rank >= 0 ? `#${rank + 1}` : '');
  return html`<tr ${p.buildKey ? html`data-build-id="${p.buildKey}"` : ''} data-state="${p.state}" class="${p.point === t.best?.point ? 'sweep-best-row' : ''}">
    ${axes.map((a) => html`<td class="mono">${a in p.values ? valueText(p.values[a]) : ''}</td>`)}
    <td>${stateBadge(p.state)}</td>
    <td>${p.report?.validation?.verdict ?? p.verdict ?? '—'}</td>
    <td class="num">${fmt(latencyOf(p, batch), 4)}</td>
    <td class="num">${scored && t.metric === 'throughput' ? fmt(scored.value, 4) : '—'}</td>
    <td class="num">${fmt(maxAbsError(p), 3)}</td>
    <td>${p.buildKey ? html`<a class="mono" href="/dashboard/builds/${p.buildKey}">${p.buildKey.slice(0, 12)}</a>${p.runtime !== undefined ? html` <span class="small muted">run ${p.runtime + 1}</span>` : ''}` : '—'}</td>
    <td class="small">${note}</td>
  </tr>`;
}

/** The sweep section of a request page; also served alone for live.js to refresh. */
export function sweepSection(results: SweepResults): Html {
  const axes = Object.keys(results.axes);
  const batch = results.best.batch;
  const metric = results.best.metric === 'latency' ? 'p50 latency' : 'throughput';
  const body = html`<p id="sweep-note" class="small muted">${axes.map((a) => html`<span class="mono">${a}</span>: ${results.axes[a].map(valueText).join(', ')}`).reduce<Html[]>((acc, part, i) => (i ? [...acc, html`; `, part] : [part]), [])}. Best by ${metric}${batch ? ` at batch ${batch}` : ''} among points whose validation passed. Runtime settings of one artifact share its build ("run N").</p>
    ${results.targets.map((t, i) => {
      const points = results.points.filter((p) => p.target === t.target);
      return html`<div class="sweep-target" data-target="${t.target}">
        <h3 class="mono">${t.target}</h3>
        ${verdictLine(t)}
        <div class="scroll-x"><table class="sweep" aria-describedby="sweep-note">
          <thead><tr>${axes.map((a) => html`<th scope="col" title="${a}">${shortPath(a)}</th>`)}<th scope="col">State</th><th scope="col">Validation</th><th scope="col">p50 ms</th><th scope="col">Samples/s</th><th scope="col">Max abs error</th><th scope="col">Build</th><th scope="col">Note</th></tr></thead>
          <tbody>${points.map((p) => pointRow(p, axes, t, batch))}</tbody>
        </table></div>
        ${scatter(`sweep-scatter-${i}`, t, points, batch)}
      </div>`;
    })}`;
  return section('Sweep', body, 'sweep-h');
}
