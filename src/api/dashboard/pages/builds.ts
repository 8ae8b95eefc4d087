import { BUILD_STATES, type BuildRecord } from '../../../state/build-records';
import type { BuildsPageData } from '../data/builds';
import { excerpt } from '../format';
import { href, html, type Html } from '../html';
import { hasRole, type Session } from '../sessions';
import { actionButton, buildLink, duration, empty, modelLink, progressBar, stateBadge, timeAgo } from './components';
import { modelName } from './forms';

/** The error column's width in characters (dashboard.css: table.builds .error-line, 34ch of a monospace font). */
const ERROR_EXCERPT_CHARS = 34;

export interface BuildsPageContext {
  data: BuildsPageData;
  session: Session;
  labelOf: (sha: string) => string | null;
  models: { sha256: string; labels: string[] }[];
  targets: string[];
}

export function buildsBody(c: BuildsPageContext): Html {
  const { filter, page, total } = c.data;
  const canAct = hasRole(c.session, 'builder');
  const current = { state: filter.state, model: filter.model, target: filter.target, limit: filter.limit === 25 ? undefined : filter.limit };
  const form = html`<form class="filters" method="get" action="/dashboard/builds" aria-label="Filter builds">
    <label>State <select name="state"><option value="">any</option>${BUILD_STATES.map(
      (s) => html`<option value="${s}" ${s === filter.state ? html`selected` : ''}>${s} (${c.data.counts[s].toLocaleString('en-US')})</option>`,
    )}</select></label>
    <label>Model <select name="model"><option value="">any</option>${c.models.map((m) => {
      // Any of a model's labels names it; the newest goes in the URL, all of them in the list.
      const value = m.labels[m.labels.length - 1] ?? m.sha256;
      const selected = filter.model !== undefined && (m.sha256 === filter.model || m.labels.includes(filter.model) || value === filter.model);
      return html`<option value="${value}" ${selected ? html`selected` : ''}>${modelName(m)}</option>`;
    })}</select></label>
    <label>Target <select name="target"><option value="">any</option>${c.targets.map(
      (t) => html`<option value="${t}" ${t === filter.target ? html`selected` : ''}>${t}</option>`,
    )}</select></label>
    <button type="submit">Filter</button>
    ${filter.state || filter.model || filter.target ? html`<a href="/dashboard/builds">Clear</a>` : ''}
  </form>`;

  const showing = page.builds.length
    ? `Showing ${page.builds.length.toLocaleString('en-US')}${total !== null ? ` of ${total.toLocaleString('en-US')}` : ''} builds, newest first`
    : '';
  const pager = html`<nav class="pager" aria-label="Pages">
    ${filter.cursor ? html`<a href="${href('/dashboard/builds', current)}">« Newest</a>` : ''}
    ${page.nextCursor ? html`<a rel="next" href="${href('/dashboard/builds', { ...current, cursor: page.nextCursor })}">Older »</a>` : ''}
  </nav>`;

  const table = html`<table class="builds" aria-describedby="builds-summary">
      <thead><tr>
        <th scope="col">Build</th><th scope="col">Model</th><th scope="col">Target</th><th scope="col">State</th>
        <th scope="col">Progress</th><th scope="col">Age</th><th scope="col">Duration</th>${canAct ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ''}
      </tr></thead>
      <tbody id="builds-body" data-live-rows ${filter.cursor ? '' : html`data-refresh="${href('/dashboard/builds', { ...current, fragment: '1' })}"`}>
        ${buildRows(page.builds, c.labelOf, canAct ? c.session.csrf : null, Boolean(filter.state || filter.model || filter.target))}
      </tbody>
    </table>`;

  return html`<h1>Builds</h1>
    ${form}
    <p id="builds-summary" class="muted">${showing}</p>
    ${table}
    ${pager}`;
}

/**
 * The rows alone: the page, and the fragment the live script swaps in when builds appear. An
 * empty list is one row saying so, so the live table exists from the start.
 */
export function buildRows(builds: BuildRecord[], labelOf: (sha: string) => string | null, csrf: string | null, filtered: boolean): Html {
  if (builds.length === 0) {
    const message = filtered ? 'No build matches these filters.' : 'No builds yet. Submit one from the Submit page or with `kiln build`.';
    return html`<tr class="empty-row"><td colspan="${csrf !== null ? 8 : 7}">${empty(message)}</td></tr>`;
  }
  return html`${builds.map((b) => buildRow(b, labelOf, csrf))}`;
}

function buildRow(b: BuildRecord, labelOf: (sha: string) => string | null, csrf: string | null): Html {
  return html`<tr data-build-id="${b.buildKey}" data-state="${b.state}">
    <td>${buildLink(b.buildKey)}</td>
    <td class="nowrap">${modelLink(b.modelId, labelOf(b.modelId))}</td>
    <td class="mono nowrap">${b.targetKey}</td>
    <td>${stateBadge(b.state)}${b.state === 'failed' && b.error ? html`<div class="error-line small" title="${b.error}">${excerpt(b.error, ERROR_EXCERPT_CHARS)}</div>` : ''}</td>
    <td>${progressBar(b)}</td>
    <td class="nowrap">${timeAgo(b.createdAt)}</td>
    <td class="nowrap">${duration(b)}</td>
    ${csrf !== null ? html`<td class="actions" data-field="actions">${buildActions(b, csrf)}</td>` : ''}
  </tr>`;
}

/** Cancel while unfinished; retry once failed or cancelled, unless it failed on its input and would fail the same way. */
export function buildActions(b: Pick<BuildRecord, 'buildKey' | 'state' | 'cancelRequested' | 'inputError'>, csrf: string): Html {
  if (b.state === 'queued' || b.state === 'active') {
    if (b.cancelRequested) return html`<span class="muted small">cancelling…</span>`;
    return actionButton(`/dashboard/api/builds/${b.buildKey}/cancel`, 'Cancel', csrf, { danger: true, confirm: 'Cancel this build?' });
  }
  if (b.state === 'failed' && b.inputError) {
    return html`<span class="muted small" data-field="no-retry" title="This build failed on its input (model, shapes, options or validation); a retry fails the same way. Change the input and submit again.">fix input, resubmit</span>`;
  }
  if (b.state === 'failed' || b.state === 'cancelled') return actionButton(`/dashboard/api/builds/${b.buildKey}/retry`, 'Retry', csrf);
  return html``;
}
