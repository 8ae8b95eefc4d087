/**
 * The build page's "Optimisation profiles" section: one block of rows per TensorRT optimization
 * profile, with its shape range, the shapes it was validated at, its verdict and isclose figures
 * per output, and its latency and throughput at each batch size it was benchmarked at. A client may
 * select any profile, so each profile's numbers are shown, not only profile 0's (docs/fleet.md).
 */
import type { BenchmarkRow } from '../../../core/report';
import type { ProfileView } from '../data/build-profiles';
import { formatNumber } from '../format';
import { html, type Html } from '../html';
import { section } from './components';

const dims = (d: number[]) => d.join('×');

export function profilesSection(profiles: ProfileView[]): Html {
  if (profiles.length === 0) return html``;
  return section(
    'Optimisation profiles',
    html`<p class="small muted">Each profile was validated and benchmarked on its own (trtexec <span class="mono">--useProfile=N</span>) at shapes it accepts; the engine’s verdict is its worst profile’s. The Benchmark section above shows profile 0.</p>
      <div class="scroll-x"><table id="profiles-table">
        <thead><tr><th scope="col">Profile</th><th scope="col">Shapes (min → opt → max)</th><th scope="col">Validated at</th><th scope="col">Validation (isclose per output)</th>
          <th scope="col" class="num">Batch</th><th scope="col" class="num">Median ms</th><th scope="col" class="num">p99 ms</th><th scope="col" class="num">Runs/s</th><th scope="col" class="num">Samples/s</th></tr></thead>
        ${profiles.map(profileRows)}
      </table></div>`,
    'profiles-h',
  );
}

/** One tbody per profile: its facts span the rows of its batch sizes. */
function profileRows(p: ProfileView): Html {
  const rows: (BenchmarkRow | null)[] = p.benchmark?.rows.length ? [...p.benchmark.rows].sort((a, b) => a.batch - b.batch) : [null];
  const span = rows.length;
  const v = p.validation;
  const facts = html`<th scope="rowgroup" rowspan="${span}" class="num">${p.index}</th>
    <td rowspan="${span}" class="mono small shapes">${Object.entries(p.shapes).map(([name, r], i) => html`${i ? html`<br>` : ''}${name}: ${dims(r.min)} → ${dims(r.opt)} → ${dims(r.max)}`)}</td>
    <td rowspan="${span}" class="mono small" data-field="validated-at">${v ? Object.entries(v.inputs).map(([name, input], i) => html`${i ? html`<br>` : ''}${name}: ${dims(input.dims)}`) : '—'}</td>
    <td rowspan="${span}" data-field="validation">${
      v
        ? html`<span class="badge verdict-${v.verdict}">${v.verdict}</span><ul class="plain small">${v.outputs.map(
            (o) => html`<li><span class="mono">${o.name}</span>: ${o.mismatched.toLocaleString('en-US')} of ${o.elements.toLocaleString('en-US')} outside (${(o.mismatchRatio * 100).toFixed(3)}%), max abs ${o.maxAbsError.toExponential(2)}, max rel ${o.maxRelError.toExponential(2)}${o.nonFinite ? `, ${o.nonFinite} non-finite` : ''} <span class="badge verdict-${o.verdict}">${o.verdict}</span></li>`,
          )}</ul>`
        : html`<span class="muted">not validated yet</span>`
    }</td>`;
  return html`<tbody data-profile="${p.index}">${rows.map(
    (r, i) => html`<tr data-profile="${p.index}"${r ? html` data-batch="${r.batch}"` : ''}>${i === 0 ? facts : ''}${
      r
        ? html`<td class="num">${r.batch}</td><td class="num">${formatNumber(r.latencyMs.median, 3)}</td><td class="num">${formatNumber(r.latencyMs.p99, 3)}</td><td class="num">${formatNumber(r.throughputQps)}</td><td class="num">${formatNumber(r.throughputSps)}</td>`
        : html`<td colspan="5" class="muted">not benchmarked${p.benchmark ? '' : ' on its own (a report from before per-profile benchmarks, or still running)'}</td>`
    }</tr>`,
  )}</tbody>`;
}
