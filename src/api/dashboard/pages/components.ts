/** Small pieces shared by the pages: state badges, progress bars, times, charts, tables. */
import type { BuildRecord } from '../../../state/build-records';
import { buildDurationMs, formatAge, formatDuration, shortId } from '../format';
import { dataBlock, html, type Html, type HtmlValue } from '../html';

/** Text and colour: the state is readable without telling colours apart. */
export function stateBadge(state: string, extra?: string): Html {
  return html`<span class="badge state-${state}" data-field="state">${state}${extra ? html` <span class="badge-extra">${extra}</span>` : ''}</span>`;
}

export function progressBar(record: Pick<BuildRecord, 'state' | 'phase' | 'percent'>): Html {
  const running = record.state === 'active';
  const percent = record.state === 'succeeded' ? 100 : running ? record.percent : 0;
  const label = running ? `${record.phase ?? 'starting'} ${percent}%` : record.state === 'succeeded' ? 'done' : record.state === 'queued' ? 'waiting' : '';
  return html`<div class="progress" data-field="progress">
    <progress max="100" value="${percent}" aria-label="Progress of this build">${percent}%</progress>
    <span class="progress-label" data-field="progress-label">${label}</span>
  </div>`;
}

export function timeAgo(iso: string | undefined): Html {
  if (!iso) return html`<span>—</span>`;
  return html`<time datetime="${iso}" title="${iso}" data-relative>${formatAge(iso)}</time>`;
}

export function duration(record: Pick<BuildRecord, 'startedAt' | 'finishedAt' | 'state'>): Html {
  const ms = buildDurationMs(record);
  return html`<span data-field="duration" ${record.state === 'active' && record.startedAt ? html`data-since="${record.startedAt}"` : ''}>${formatDuration(ms)}</span>`;
}

export function buildLink(id: string, text?: string): Html {
  return html`<a class="mono" href="/dashboard/builds/${id}">${text ?? shortId(id)}</a>`;
}

export function modelLink(sha: string, label: string | null): Html {
  return html`<a href="/dashboard/models/${sha}">${label ?? html`<span class="mono">${shortId(sha)}</span>`}</a>`;
}

export interface ChartSpec {
  type: 'bar' | 'line' | 'doughnut';
  labels: (string | number)[];
  datasets: { label: string; data: (number | null)[]; color?: string; stack?: string }[];
  /**
   * `linear`: the labels are numbers placed by value (e.g. seconds), so uneven spacing shows, as
   * gaps between heartbeats do; Chart.js's time scale would need a date adapter, which is not served.
   */
  x?: { title?: string; log?: boolean; linear?: boolean };
  y?: { title?: string; log?: boolean; min?: number; max?: number };
  stacked?: boolean;
  horizontal?: boolean;
}

/**
 * A chart drawn by charts.js from a data block, with the same numbers in a table for screen
 * readers and keyboards (the canvas itself is an image).
 */
export function chart(id: string, title: string, spec: ChartSpec, options: { height?: number; table?: boolean; caption?: boolean } = {}): Html {
  const table = options.table === false ? '' : chartTable(title, spec);
  return html`<figure class="chart">
    ${options.caption === false ? '' : html`<figcaption>${title}</figcaption>`}
    <div class="chart-box" style="height:${options.height ?? 260}px">
      <canvas id="${id}" data-chart="${id}-data" role="img" aria-label="${title} (the numbers follow in a table)"></canvas>
    </div>
    ${dataBlock(`${id}-data`, spec)}
    ${table}
  </figure>`;
}

function chartTable(title: string, spec: ChartSpec): Html {
  return html`<details class="chart-data"><summary>${title}: the numbers</summary>
    <table>
      <thead><tr><th scope="col">${spec.x?.title ?? ''}</th>${spec.datasets.map((d) => html`<th scope="col">${d.label}</th>`)}</tr></thead>
      <tbody>${spec.labels.map(
        (label, i) => html`<tr><th scope="row">${String(label)}</th>${spec.datasets.map((d) => html`<td class="num">${fmt(d.data[i])}</td>`)}</tr>`,
      )}</tbody>
    </table></details>`;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 100) / 100);
}

export function empty(message: HtmlValue): Html {
  return html`<p class="empty">${message}</p>`;
}

export function section(title: string, body: HtmlValue, id?: string): Html {
  return html`<section class="card" ${id ? html`aria-labelledby="${id}"` : ''}><h2 ${id ? html`id="${id}"` : ''}>${title}</h2>${body}</section>`;
}

/** A form that posts an action; common.js turns it into a fetch with the CSRF header. */
export function actionButton(action: string, label: string, csrf: string, options: { danger?: boolean; confirm?: string } = {}): Html {
  return html`<form class="action" method="post" action="${action}" data-action ${options.confirm ? html`data-confirm="${options.confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${csrf}">
    <button type="submit" class="${options.danger ? 'danger' : ''}">${label}</button>
  </form>`;
}

export const STATE_COLORS: Record<string, string> = {
  queued: '#6b7280',
  active: '#2563eb',
  succeeded: '#15803d',
  failed: '#b91c1c',
  cancelled: '#a16207',
};
