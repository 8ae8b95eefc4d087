import type { TimingCacheRow } from '../data/timing-caches';
import { formatBytes } from '../format';
import { html, type Html } from '../html';
import { chart, empty, section, timeAgo } from './components';

export function timingCachesBody(rows: TimingCacheRow[]): Html {
  if (rows.length === 0) {
    return html`<h1>Timing caches</h1>
      ${empty(html`No fleet timing cache yet. TensorRT workers create one per (TensorRT version, platform, compute capability, GPU model) with their first build and share it with every later build on that GPU model, so builds take seconds instead of minutes.`)}`;
  }
  const withGrowth = rows.filter((r) => r.growth.length > 0);
  return html`<h1>Timing caches</h1>
    ${section(
      'Fleet caches',
      html`<table>
        <thead><tr><th scope="col">Cache</th><th scope="col">TensorRT</th><th scope="col">CC</th><th scope="col">GPU model</th><th scope="col" class="num">Size</th><th scope="col">Updated</th><th scope="col" class="num">Builds that reported it</th></tr></thead>
        <tbody>${rows.map(
          (r) => html`<tr><th scope="row">${r.name}</th><td>${r.trt}</td><td>${r.cc}</td><td>${r.sku ?? 'all (from before per-SKU caches)'}</td><td class="num">${formatBytes(r.sizeBytes)}</td><td>${r.updatedAt ? timeAgo(r.updatedAt) : '—'}</td><td class="num">${r.growth.length}</td></tr>`,
        )}</tbody>
      </table>`,
      'caches-h',
    )}
    ${withGrowth.map((r) =>
      section(
        `Growth of ${r.name}`,
        chart(`chart-cache-${r.name.replace(/[^a-z0-9]/gi, '_')}`, `Cache size after each build (${r.name})`, {
          type: 'line',
          labels: r.growth.map((g) => g.at.slice(0, 16).replace('T', ' ')),
          x: { title: 'build finished (UTC)' },
          y: { title: 'KiB', min: 0 },
          datasets: [{ label: 'KiB', data: r.growth.map((g) => Math.round(g.bytes / 102.4) / 10), color: '#7c3aed' }],
        }),
      ),
    )}`;
}
