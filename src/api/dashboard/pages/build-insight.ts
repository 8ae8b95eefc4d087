/**
 * The build page's comparisons: the speed-up over the reference per batch size (a plot and its
 * table) with the conditions it was measured under. A benchmark measured on a loaded machine says
 * so next to its numbers rather than in a log line nobody reads.
 */
import type { BenchmarkReport } from '../../../core/report';
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
