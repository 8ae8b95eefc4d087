import { BUILD_STATES } from '../../../state/build-records';
import type { OverviewData } from '../data/overview';
import { excerpt } from '../format';
import { html, type Html } from '../html';
import { buildLink, chart, empty, modelLink, section, STATE_COLORS, timeAgo } from './components';

export function overviewBody(data: OverviewData, labelOf: (sha: string) => string | null): Html {
  const hourLabels = data.finishedPerHour.map((b) => `${b.hour.slice(11, 13)}:00`);
  const tiles = html`<ul class="tiles" aria-label="Builds by state">
    <li class="tile"><a href="/dashboard/builds"><span class="tile-value" data-count="total">${data.total.toLocaleString('en-US')}</span><span class="tile-label">builds</span></a></li>
    ${BUILD_STATES.map(
      (s) => html`<li class="tile tile-${s}"><a href="/dashboard/builds?state=${s}"><span class="tile-value" data-count="${s}">${data.counts[s].toLocaleString('en-US')}</span><span class="tile-label">${s}</span></a></li>`,
    )}
  </ul>`;

  const charts = html`<div class="grid-2">
    ${section(
      'Builds by state',
      chart('chart-states', 'Builds by state', {
        type: 'doughnut',
        labels: [...BUILD_STATES],
        datasets: [{ label: 'builds', data: BUILD_STATES.map((s) => data.counts[s]) }],
      }, { caption: false }),
    )}
    ${section(
      'Builds finished per hour (last 24 h, UTC)',
      chart('chart-hours', 'Builds finished per hour', {
        type: 'bar',
        stacked: true,
        labels: hourLabels,
        x: { title: 'hour (UTC)' },
        y: { title: 'builds', min: 0 },
        datasets: (['succeeded', 'failed', 'cancelled'] as const).map((s) => ({ label: s, data: data.finishedPerHour.map((b) => b[s]), color: STATE_COLORS[s] })),
      }, { caption: false }),
    )}
  </div>`;

  const queues = data.queues.length
    ? html`<table>
        <thead><tr><th scope="col">Target (queue)</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Active</th><th scope="col" class="num">Delayed</th><th scope="col" class="num" title="Failed jobs are kept in their queue for 7 days">Failed</th><th scope="col">Served by</th></tr></thead>
        <tbody>${data.queues.map((q) => {
          const servers = data.workers.filter((w) => w.targets.includes(q.target)).length;
          return html`<tr>
            <th scope="row" class="nowrap"><a class="mono" href="/dashboard/builds?target=${encodeURIComponent(q.target)}">${q.target}</a></th>
            <td class="num">${q.waiting}</td><td class="num">${q.active}</td><td class="num">${q.delayed}</td><td class="num">${q.failed}</td>
            <td class="nowrap">${servers ? `${servers} worker${servers > 1 ? 's' : ''}` : html`<span class="warn-text">no live worker</span>`}</td>
          </tr>`;
        })}</tbody>
      </table>`
    : empty('No queues yet: no worker has registered and nothing was submitted.');

  const workers = data.workers.length
    ? html`<table>
        <thead><tr><th scope="col">Worker</th><th scope="col">Targets</th><th scope="col">Current build</th><th scope="col">Last heartbeat</th></tr></thead>
        <tbody>${data.workers.map(
          (w) => html`<tr>
            <th scope="row"><a href="/dashboard/fleet#worker-${w.id}">${w.id}</a></th>
            <td class="mono small">${w.targets.join(', ') || '—'}</td>
            <td>${w.currentBuild ? buildLink(w.currentBuild) : html`<span class="muted">idle</span>`}</td>
            <td>${timeAgo(w.lastBeat)}</td>
          </tr>`,
        )}</tbody>
      </table>`
    : empty('No live worker. Start one with `npm run start:worker` (or `kiln worker`).');

  const failures = data.failures.length
    ? html`<table>
        <thead><tr><th scope="col">Build</th><th scope="col">Model</th><th scope="col">Target</th><th scope="col">Finished</th><th scope="col">First error line</th></tr></thead>
        <tbody>${data.failures.map(
          (b) => html`<tr>
            <td>${buildLink(b.buildKey)}</td>
            <td>${modelLink(b.modelId, labelOf(b.modelId))}</td>
            <td class="mono">${b.targetKey}</td>
            <td>${timeAgo(b.finishedAt ?? b.updatedAt)}</td>
            <td class="error-line" title="${b.error ?? ''}">${excerpt(b.error, 48 /* .error-line is 48ch wide */) || '—'}</td>
          </tr>`,
        )}</tbody>
      </table>`
    : empty('No failed builds.');

  return html`<h1>Overview</h1>
    ${tiles}
    ${charts}
    ${section('Queue depth per target', queues, 'queues-h')}
    ${section(`Live workers (${data.workers.length})`, workers, 'workers-h')}
    ${section('Latest failures', failures, 'failures-h')}`;
}
