/**
 * The build page's comparisons: the speed-up over the reference per batch size (a plot and its
 * table) with the conditions it was measured under, and the drift from the model's previous version. A benchmark measured on a loaded machine says
 * so next to its numbers rather than in a log line nobody reads.
 */
import type { BenchmarkReport, DriftReport } from '../../../core/report';
import { formatNumber } from '../format';
import { html, type Html } from '../html';
import { chart, section } from './components';

export function speedupSection(b: BenchmarkReport | null | undefined): Html {
  if (!b?.speedup?.length || !b.reference) return html``;
  const rows = [...b.speedup].sort((x, y) => x.batch - y.batch);
  const c = b.conditions;
  const threads = c ? (c.threads ?? c.referenceThreads) : undefined;
  const quality = c
    ? html`<p class="small"><span class="badge quality-${c.quality}">${c.quality}</span> ${threads ? `${threads} intra-op threads; ` : ''}${
        c.host ? `other processes used ${c.host.otherCores.toFixed(2)} of ${c.host.cores} CPU cores (load average ${c.host.loadAverage1m.toFixed(2)}) while measuring` : 'host load not readable here'
      }${c.gpu ? `; ${c.gpu.length} GPU idle-guard reading(s), ${c.gpu.filter((g) => g.busy).length} busy` : ''}.${
        c.reasons.length ? html` <span class="pre-wrap">Noisy: ${c.reasons.join('; ')}.</span>` : ''
      }</p>`
    : '';
  return section(
    'Speed-up over the reference',
    html`<p class="small muted">Reference: <strong>${b.reference.name}</strong>, measured at the same batch sizes on the same inputs. Speed-up = reference median latency ÷ artifact median latency.</p>
      ${quality}
      <div class="grid-2">
        ${chart('chart-speedup', 'Speed-up by batch size', {
          type: 'bar',
          labels: rows.map((r) => r.batch),
          x: { title: 'batch size' },
          y: { title: '× faster than the reference', min: 0 },
          datasets: [{ label: 'speed-up', data: rows.map((r) => r.speedup), color: '#15803d' }],
        })}
        ${chart('chart-speedup-latency', 'Median latency: artifact and reference', {
          type: 'line',
          labels: rows.map((r) => r.batch),
          x: { title: 'batch size' },
          y: { title: 'ms per run', min: 0 },
          datasets: [
            { label: 'reference', data: rows.map((r) => r.referenceMedianMs), color: '#b45309' },
            { label: 'artifact', data: rows.map((r) => r.medianMs), color: '#1d4ed8' },
          ],
        })}
      </div>
      <table id="speedup-table">
        <thead><tr><th scope="col" class="num">Batch</th><th scope="col" class="num">Reference median ms</th><th scope="col" class="num">Artifact median ms</th><th scope="col" class="num">Speed-up</th></tr></thead>
        <tbody>${rows.map(
          (r) => html`<tr><th scope="row" class="num">${r.batch}</th><td class="num">${formatNumber(r.referenceMedianMs, 3)}</td><td class="num">${formatNumber(r.medianMs, 3)}</td><td class="num">${formatNumber(r.speedup, 2)}×</td></tr>`,
        )}</tbody>
      </table>`,
    'speedup-h',
  );
}

export function driftSection(d: DriftReport | undefined): Html {
  if (!d) return html``;
  const sci = (n: number | null) => (typeof n === 'number' && Number.isFinite(n) ? n.toExponential(2) : '—');
  return section(
    'Drift from the previous version',
    html`<p><span class="badge verdict-${d.verdict}">${d.verdict}</span> <strong>${d.label}</strong> against <strong>${d.previous.label}</strong>
        (model <span class="mono">${d.previous.modelId.slice(0, 12)}</span>, published build <a class="mono" href="/dashboard/builds/${d.previous.buildKey}">${d.previous.buildKey.slice(0, 12)}</a>),
        both run by ${d.runner} on the validation's inputs (seed ${d.seed}). ${d.maxDrift === null ? 'No gate: set options.validation.maxDrift to fail builds that drift more.' : `Gate: max |Δ| ≤ ${d.maxDrift} per output.`}</p>
      ${d.note ? html`<p class="small muted pre-wrap">${d.note}</p>` : ''}
      ${d.outputs.length ? html`<table id="drift-table">
        <thead><tr><th scope="col">Output</th><th scope="col" class="num">Elements</th><th scope="col" class="num">Max |Δ|</th><th scope="col" class="num">Mean |Δ|</th><th scope="col">Verdict</th></tr></thead>
        <tbody>${d.outputs.map(
          (o) => html`<tr><th scope="row" class="mono">${o.name}</th><td class="num">${o.elements.toLocaleString('en-US')}</td><td class="num">${sci(o.maxAbsDiff)}</td><td class="num">${sci(o.meanAbsDiff)}</td><td><span class="badge verdict-${o.verdict}">${o.verdict}</span></td></tr>`,
        )}</tbody></table>` : ''}`,
    'drift-h',
  );
}
