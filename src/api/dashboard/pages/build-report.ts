/**
 * The build page's TensorRT and "Build details" sections: the toolchain's `build.details` shown
 * under human labels, each fact once. Toolchains report free-form details, so known keys get a
 * label and a formatter, and unknown ones a label made from their name.
 */
import type { BuildReport } from '../../../core/report';
import type { BuildSpec } from '../../../core/build-spec';
import { formatBytes, formatDuration } from '../format';
import { html, type Html } from '../html';
import { section } from './components';

type Details = Record<string, unknown>;

const obj = (value: unknown): Details => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Details) : {});
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Keys the TensorRT section shows (or that are shown elsewhere), so "Build details" leaves them out. */
const SHOWN_IN_TENSORRT = ['device', 'cc', 'uuid', 'trtVersion', 'tensorrtVersion', 'engineBytes', 'engineSizeMiB', 'timingCache', 'timingCacheBytes', 'layers', 'layerSummary'];

/** The precision flags the spec asked TensorRT for; none means TensorRT's default of fp32 with TF32. */
export function enginePrecision(spec: BuildSpec): string {
  const precision = obj(obj(spec.options).tensorrt).precision;
  return Array.isArray(precision) && precision.length > 0 ? precision.map(String).join(', ') : 'fp32/tf32 (default)';
}

/** TensorRT facts from `build.details`, under whichever names the toolchain reports them. */
export function tensorRtSection(report: BuildReport, spec: BuildSpec): Html {
  const d = report.build.details;
  const device = obj(d.device);
  const cache = obj(d.timingCache);
  const rows: [string, string][] = [];
  const add = (label: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '') rows.push([label, String(value)]);
  };
  add('Device', typeof d.device === 'string' ? d.device : device.name);
  add('Compute capability', device.cc ?? d.cc);
  const memoryMiB = num(device.memoryMiB);
  add('Device memory', memoryMiB !== undefined ? formatBytes(memoryMiB * 2 ** 20) : undefined);
  add('GPU UUID', device.uuid ?? d.uuid);
  add('TensorRT', d.trtVersion ?? d.tensorrtVersion ?? report.toolchain.version);
  add('Precision', enginePrecision(spec));
  const engineBytes = num(d.engineBytes) ?? (num(d.engineSizeMiB) !== undefined ? num(d.engineSizeMiB)! * 2 ** 20 : undefined);
  add('Engine size', engineBytes !== undefined ? formatBytes(engineBytes) : undefined);
  const cacheBytes = num(d.timingCacheBytes) ?? num(cache.savedBytes) ?? num(cache.bytes);
  add('Timing cache', cacheBytes !== undefined ? formatBytes(cacheBytes) : undefined);
  if (num(cache.loadedBytes) !== undefined) add('Timing cache loaded', formatBytes(num(cache.loadedBytes)));
  if (num(cache.entries) !== undefined) add('Timing cache entries', cache.entries);
  if (typeof cache.fleet === 'string') add('Fleet timing cache', cache.fleet);
  const layers = layerSummary(d.layers ?? d.layerSummary);
  return section(
    'TensorRT',
    html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
      ${layers.length ? html`<h3>Layers</h3><table id="layers-table"><thead><tr><th scope="col">Kind</th><th scope="col" class="num">Layers</th></tr></thead>
        <tbody>${layers.map(([k, n]) => html`<tr><th scope="row">${k}</th><td class="num">${n}</td></tr>`)}</tbody></table>` : ''}`,
    'trt-h',
  );
}

/**
 * Accepts `{ byType: {Conv: 3} }`, `{ Conv: 3 }`, or a list of layers with a type/precision;
 * most frequent kind first, ties by name, so the table reads as "what the engine is made of".
 */
export function layerSummary(value: unknown): [string, number][] {
  if (!value || typeof value !== 'object') return [];
  let entries: [string, number][];
  if (Array.isArray(value)) {
    const counts = new Map<string, number>();
    for (const layer of value as Details[]) {
      const kind = String(layer?.type ?? layer?.LayerType ?? layer?.precision ?? 'layer');
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    entries = [...counts];
  } else {
    const o = value as Details;
    const source = (o.byType ?? o.types ?? o) as Details;
    entries = Object.entries(source).filter((e): e is [string, number] => typeof e[1] === 'number');
  }
  return entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Labels and formatters for the details the toolchains report today. */
const KNOWN: Record<string, { label: string; show: (v: unknown) => Html | string; hint?: string }> = {
  buildSeconds: { label: 'Engine build (trtexec)', show: (v) => seconds(v), hint: 'trtexec’s own engine build, as it reports it' },
  optimizeSeconds: { label: 'Optimisation (ONNX Runtime)', show: (v) => seconds(v), hint: 'ONNX Runtime’s graph optimisation alone' },
  graphOptimizationLevel: { label: 'Graph optimisation level', show: String },
  nodes: { label: 'Nodes', show: (v) => (num(obj(v).original) !== undefined ? `${obj(v).original} → ${obj(v).optimized} after optimisation` : json(v)) },
  opsets: { label: 'Opsets', show: (v) => Object.entries(obj(v)).map(([domain, version]) => `${domain || 'ai.onnx'} ${version}`).join(', ') },
  sizeBytes: { label: 'Artifact size', show: (v) => formatBytes(num(v)) },
  warningCount: { label: 'trtexec warnings', show: String },
  trtexec: { label: 'trtexec binary', show: (v) => html`<span class="mono small">${String(v)}</span>` },
};

/** Long JSON goes behind a summary line, so the section reads as facts. */
const COLLAPSED: Record<string, string> = {
  argv: 'trtexec command line',
  profiles: 'Optimisation profiles (JSON)',
  calibration: 'INT8 calibration cache (JSON)',
  gpuIdle: 'GPU idle check (JSON)',
};

function seconds(v: unknown): string {
  const s = num(v);
  return s === undefined ? String(v) : formatDuration(s * 1000);
}

function json(v: unknown): Html {
  return html`<span class="mono small">${JSON.stringify(v)}</span>`;
}

/** `engineBytes` -> `Engine bytes`. */
export function humanLabel(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function detailsSection(report: BuildReport): Html {
  const tensorrt = report.toolchain.name === 'tensorrt';
  const entries = Object.entries(report.build.details).filter(([k, v]) => v !== undefined && v !== null && !(tensorrt && SHOWN_IN_TENSORRT.includes(k)));
  const facts = entries.filter(([k]) => !COLLAPSED[k]);
  const collapsed = entries.filter(([k]) => COLLAPSED[k]);
  const body = html`<dl class="facts">
      <dt title="Worker wall clock from preparing through benchmarking; the timeline splits it into phases">Pipeline time</dt>
      <dd>${formatDuration(report.build.seconds * 1000)} <span class="muted small">prepare → benchmark, on the worker (the timeline’s phases)</span></dd>
      ${facts.map(([k, v]) => {
        const known = KNOWN[k];
        if (known) return html`<dt>${known.label}</dt><dd>${known.show(v)}${known.hint ? html` <span class="muted small">${known.hint}</span>` : ''}</dd>`;
        const n = num(v);
        const shown = n !== undefined && /Bytes$/.test(k) ? formatBytes(n) : n !== undefined && /Seconds$/.test(k) ? formatDuration(n * 1000) : typeof v === 'object' ? json(v) : String(v);
        return html`<dt>${humanLabel(k)}</dt><dd>${shown}</dd>`;
      })}
    </dl>
    ${collapsed.map(([k, v]) => html`<details class="detail-json"><summary>${COLLAPSED[k]}${Array.isArray(v) ? ` (${v.length})` : ''}</summary><pre class="code">${
      k === 'argv' && Array.isArray(v) ? ['trtexec', ...v.map(String)].join(' \\\n  ') : JSON.stringify(v, null, 2)
    }</pre></details>`)}
    ${report.warnings.length ? html`<h3>Warnings</h3><ul class="warnings">${report.warnings.map((w) => html`<li class="pre-wrap">${w}</li>`)}</ul>` : ''}`;
  return section('Build details', body, 'details-h');
}
