import type { TensorInfo } from '../../../core/onnx/model-info';
import type { ModelRecord } from '../../../state/model-registry';
import type { ModelDetailData } from '../data/models';
import { formatBytes, formatNumber, shortId } from '../format';
import { href, html, type Html } from '../html';
import { buildLink, chart, empty, section, stateBadge, timeAgo } from './components';

const tensor = (t: TensorInfo) => html`<span class="mono">${t.name}</span> <span class="muted">${t.elementType}[${t.unknownRank ? '?' : t.dims.map((d) => (d === null ? '?' : String(d))).join('×')}]</span>`;

/** One page of models, newest upload first; `first`: no cursor was given, `nextCursor`: the older page's. */
export function modelsBody(models: ModelRecord[], artifactCounts: Map<string, number>, paging: { first: boolean; nextCursor: string | null }): Html {
  if (models.length === 0 && paging.first) return html`<h1>Models</h1>${empty('No models yet. Push one with `kiln models push model.onnx --name resnet50`.')}`;
  return html`<h1>Models</h1>
    <table>
      <thead><tr><th scope="col">Model</th><th scope="col">Inputs</th><th scope="col">Outputs</th><th scope="col" class="num">Size</th><th scope="col" class="num">Artifacts</th><th scope="col">Uploaded</th></tr></thead>
      <tbody>${models.map(
        (m) => html`<tr>
          <th scope="row"><a href="/dashboard/models/${m.sha256}">${m.labels.length ? m.labels.join(', ') : shortId(m.sha256)}</a><div class="mono muted small">${shortId(m.sha256)}</div></th>
          <td>${m.info.inputs.map((t, i) => html`${i ? html`<br>` : ''}${tensor(t)}`)}</td>
          <td>${m.info.outputs.map((t, i) => html`${i ? html`<br>` : ''}${tensor(t)}`)}</td>
          <td class="num">${formatBytes(m.size)}</td>
          <td class="num">${artifactCounts.get(m.sha256) ?? 0}</td>
          <td>${timeAgo(m.uploadedAt)}</td>
        </tr>`,
      )}</tbody>
    </table>
    <nav class="pager" aria-label="Pages">
      ${paging.first ? '' : html`<a href="/dashboard/models">« Newest</a>`}
      ${paging.nextCursor ? html`<a rel="next" href="${href('/dashboard/models', { cursor: paging.nextCursor })}">Older »</a>` : ''}
    </nav>`;
}

export function modelDetailBody(d: ModelDetailData): Html {
  const m = d.model;
  const withBench = d.artifacts.filter((a) => a.batch1 || a.largest);
  const info = html`<dl class="facts">
      <dt>sha256</dt><dd class="mono small sha">${m.sha256}</dd>
      <dt>Size</dt><dd>${formatBytes(m.size)}</dd>
      <dt>Graph</dt><dd>${m.info.graphName || '—'}: ${m.info.nodeCount} nodes, ${m.info.initializerCount} initializers</dd>
      <dt>Producer</dt><dd>${m.info.producerName} ${m.info.producerVersion}</dd>
      <dt>Opsets</dt><dd class="mono small">${Object.entries(m.info.opsets).map(([k, v]) => `${k || 'ai.onnx'} ${v}`).join(', ')}</dd>
      <dt>Inputs</dt><dd>${m.info.inputs.map((t, i) => html`${i ? html`<br>` : ''}${tensor(t)}`)}</dd>
      <dt>Outputs</dt><dd>${m.info.outputs.map((t, i) => html`${i ? html`<br>` : ''}${tensor(t)}`)}</dd>
    </dl>`;
  const artifacts = d.artifacts.length
    ? html`<table>
        <thead><tr><th scope="col">Target</th><th scope="col">Build</th><th scope="col">Validation</th><th scope="col" class="num">Samples/s at batch 1</th><th scope="col" class="num">Samples/s at largest batch</th><th scope="col">Primary file</th><th scope="col">Published</th></tr></thead>
        <tbody>${d.artifacts.map((a) => {
          const primary = a.artifact.files.find((f) => f.name === a.artifact.primary);
          return html`<tr>
            <th scope="row" class="mono">${a.artifact.targetKey}</th>
            <td>${buildLink(a.artifact.buildKey)}</td>
            <td><span class="badge verdict-${a.artifact.validation}">${a.artifact.validation}</span></td>
            <td class="num">${formatNumber(a.batch1?.throughputSps)}</td>
            <td class="num">${a.largest ? html`${formatNumber(a.largest.throughputSps)} <span class="muted small">(batch ${a.largest.batch})</span>` : '—'}</td>
            <td>${primary ? html`<a href="/dashboard/artifacts/${a.artifact.buildKey}/${primary.name}" download>${primary.name}</a> <span class="muted small">${formatBytes(primary.size)}</span>` : '—'}</td>
            <td>${timeAgo(a.artifact.publishedAt)}</td>
          </tr>`;
        })}</tbody>
      </table>`
    : empty('No published artifacts for this model yet.');
  const comparison = withBench.length
    ? chart(
        'chart-models',
        'Throughput per target: batch 1 and the largest batch',
        {
          type: 'bar',
          labels: withBench.map((a) => a.artifact.targetKey),
          x: { title: 'target' },
          y: { title: 'samples / s', min: 0 },
          datasets: [
            { label: 'batch 1', data: withBench.map((a) => a.batch1?.throughputSps ?? null), color: '#93c5fd' },
            { label: 'largest batch', data: withBench.map((a) => a.largest?.throughputSps ?? null), color: '#1d4ed8' },
          ],
        },
        { height: Math.max(220, 60 + withBench.length * 50) },
      )
    : empty('No benchmark numbers to compare yet.');
  const recent = d.recentBuilds.length
    ? html`<table><thead><tr><th scope="col">Build</th><th scope="col">Target</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
        <tbody>${d.recentBuilds.map((b) => html`<tr><td>${buildLink(b.buildKey)}</td><td class="mono">${b.targetKey}</td><td>${stateBadge(b.state)}</td><td>${timeAgo(b.createdAt)}</td></tr>`)}</tbody></table>
        <p><a href="/dashboard/builds?model=${m.sha256}">All builds of this model</a></p>`
    : empty('No builds of this model yet.');
  return html`<h1>Model ${m.labels.length ? m.labels.join(', ') : html`<span class="mono">${shortId(m.sha256)}</span>`}</h1>
    <div class="grid-2">${section('Model', info, 'model-h')}${section('Comparison', comparison, 'comparison-h')}</div>
    ${section('Artifacts per target', artifacts, 'artifacts-h')}
    ${section('Recent builds', recent, 'recent-h')}`;
}
