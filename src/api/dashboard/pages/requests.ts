import type { BuildRecord } from '../../../state/build-records';
import { buildMatrix, type RequestSummary } from '../data/requests';
import { html, type Html } from '../html';
import { empty, modelLink, section, stateBadge, timeAgo } from './components';
import { sweepResults } from '../../sweep-results';
import { sweepSection } from './sweep';

export function requestsBody(requests: RequestSummary[], labelOf: (sha: string) => string | null): Html {
  if (requests.length === 0) return html`<h1>Requests</h1>${empty('No requests yet.')}`;
  return html`<h1>Requests</h1>
    <table>
      <thead><tr><th scope="col">Request</th><th scope="col">Model</th><th scope="col">Targets</th><th scope="col">State</th><th scope="col">Builds</th><th scope="col">Submitted</th></tr></thead>
      <tbody>${requests.map(
        (s) => html`<tr>
          <th scope="row"><a class="mono" href="/dashboard/requests/${s.request.id}">${s.request.id.slice(0, 8)}</a></th>
          <td>${modelLink(s.request.modelId, labelOf(s.request.modelId))}</td>
          <td>${s.request.targets.length}${s.request.sweep ? html` <span class="small muted">(sweep of ${s.request.sweep.points.length} points)</span>` : ''}</td>
          <td>${stateBadge(s.state)}</td>
          <td class="small">${Object.entries(s.counts).map(([k, n], i) => html`${i ? ', ' : ''}${n} ${k}`)}</td>
          <td>${timeAgo(s.request.createdAt)}</td>
        </tr>`,
      )}</tbody>
    </table>`;
}

const WAITING_NOTE = 'Nothing is building: the builds left are queued, waiting for a worker that serves their target.';

/** `liveTargets`: targets some live worker serves; queued cells outside it are marked, as are rows none of whose targets is served. */
export function requestMatrixBody(summary: RequestSummary, builds: BuildRecord[], labelOf: (sha: string) => string | null, liveTargets: Set<string>): Html {
  const r = summary.request;
  const sweep = sweepResults(r, builds);
  const m = buildMatrix(r, builds);
  const rowCells = (row: string) => m.columns.map((col) => m.cells.get(`${row}\u0000${col}`)).filter((c) => c !== undefined);
  const unservedRow = (row: string) => rowCells(row).every((c) => !liveTargets.has(c.target));
  const unservedQueued = Object.entries(r.builds).filter(([target, id]) => !liveTargets.has(target) && builds.find((b) => b.buildKey === id)?.state === 'queued').map(([t]) => t);
  const grid = html`<table class="matrix" aria-describedby="matrix-note">
      <thead><tr><th scope="col">Toolchain · platform · CC / CPU ISA</th>${m.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
      <tbody>${m.rows.map(
        (row) => html`<tr><th scope="row">${row}${unservedRow(row) ? html`<span class="unserved-note">no live worker serves this row</span>` : ''}</th>${m.columns.map((col) => {
          const cell = m.cells.get(`${row}\u0000${col}`);
          if (!cell) return html`<td class="cell-none"><span class="sr-only">not requested</span></td>`;
          const state = cell.build?.state ?? 'unknown';
          const unserved = state === 'queued' && !liveTargets.has(cell.target);
          return html`<td class="cell state-bg-${state}${unserved ? ' cell-unserved' : ''}" data-build-id="${cell.buildKey}" data-state="${state}">
            <a href="/dashboard/builds/${cell.buildKey}" title="${cell.target}">
              <span class="cell-target mono">${cell.target}</span>
              <span class="cell-state" data-field="state">${state}</span>
              ${cell.build?.state === 'active' ? html`<span class="cell-progress" data-field="progress-label">${cell.build.phase ?? ''} ${cell.build.percent}%</span>` : html`<span class="cell-progress" data-field="progress-label"></span>`}
              ${cell.build?.verdict ? html`<span class="cell-verdict">validation ${cell.build.verdict}</span>` : ''}
              ${unserved ? html`<span class="cell-unserved-note">no live worker serves it</span>` : ''}
            </a></td>`;
        })}</tr>`,
      )}</tbody>
    </table>`;
  // live.js recomputes the header's state from the cells as their builds change.
  return html`<div class="title-row"><h1>Request <span class="mono">${r.id.slice(0, 8)}</span></h1><span id="request-state" data-request-state>${stateBadge(summary.state)}</span></div>
    <p>${modelLink(r.modelId, labelOf(r.modelId))}, ${r.targets.length} target${r.targets.length === 1 ? '' : 's'}, submitted ${timeAgo(r.createdAt)}.</p>
    ${summary.state === 'waiting' || unservedQueued.length ? html`<p class="small muted" id="waiting-note">${summary.state === 'waiting' ? WAITING_NOTE : ''}${
      unservedQueued.length ? html` No live worker serves <span class="mono">${unservedQueued.join(', ')}</span>; ${unservedQueued.length === 1 ? 'it stays' : 'they stay'} queued until one registers.` : ''
    }</p>` : ''}
    ${sweep ? html`<div data-refresh="/dashboard/requests/${r.id}/sweep">${sweepSection(sweep)}</div>` : section('Matrix', html`<p id="matrix-note" class="small muted">Rows: the toolchain version, the platform (OS and CPU architecture) and the GPU compute capability or CPU ISA. Columns: the SKU or compatibility level. Each cell opens its build; states update live.</p><div class="scroll-x" data-live-rows>${grid}</div>`, 'matrix-h')}
    ${section('Options', html`<details><summary>The options set of this request (JSON, with defaults filled in)</summary><pre class="code">${JSON.stringify(r.options, null, 2)}</pre></details>`, 'options-h')}`;
}
