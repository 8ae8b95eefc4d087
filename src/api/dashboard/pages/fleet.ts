import { hardwareFacts, type FleetWorker } from '../data/fleet';
import { formatBytes, formatDuration } from '../format';
import { html, type Html } from '../html';
import { buildLink, chart, empty, progressBar, stateBadge, timeAgo } from './components';

export function fleetBody(workers: FleetWorker[]): Html {
  if (workers.length === 0) return html`<h1>Fleet</h1>${empty('No live worker. Start one with `npm run start:worker`; it registers within a heartbeat.')}`;
  const gpus = workers.filter((w) => Object.keys(w.info.toolchains).includes('tensorrt') && !w.info.toolchains.tensorrt.startsWith('unavailable')).length;
  return html`<h1>Fleet</h1>
    <p class="muted">${workers.length} live worker${workers.length === 1 ? '' : 's'}${gpus ? `, ${gpus} with TensorRT` : ''}. Hardware as each worker detected it; utilisation and memory from its heartbeats.</p>
    <div class="workers">${workers.map(workerCard)}</div>`;
}

function workerCard(w: FleetWorker): Html {
  const info = w.info;
  const facts = hardwareFacts(info);
  const t = w.telemetry;
  const latest = t[t.length - 1];
  // A CPU reading is the whole machine's (os.cpus()), shared with anything else running there.
  const source = latest?.source === 'gpu' ? 'GPU' : 'host CPU';
  const lastAt = t.length ? Date.parse(t[t.length - 1].at) : 0;
  const memPercent = (s: (typeof t)[number]) => (s.memoryUsedBytes !== null && s.memoryTotalBytes ? Math.round((s.memoryUsedBytes / s.memoryTotalBytes) * 1000) / 10 : null);
  const telemetry = t.length
    ? html`${t.length > 1
        ? chart(
            `chart-worker-${info.id.replace(/[^A-Za-z0-9_-]/g, '_')}`,
            `${source === 'GPU' ? 'GPU' : 'Host CPU'} utilisation and memory, last ${formatDuration(lastAt - Date.parse(t[0].at))}`,
            {
              type: 'line',
              // Seconds before the latest beat, placed by value: a missed heartbeat shows as a gap.
              labels: t.map((s) => Math.round((Date.parse(s.at) - lastAt) / 100) / 10),
              x: { title: `seconds before the latest beat (${t[t.length - 1].at.slice(11, 19)} UTC)`, linear: true },
              y: { title: '%', min: 0, max: 100 },
              datasets: [
                { label: `${source} utilisation %`, data: t.map((s) => s.utilizationPercent), color: '#2563eb' },
                { label: `${source === 'GPU' ? 'GPU' : 'host'} memory used %`, data: t.map(memPercent), color: '#a16207' },
              ],
            },
            { height: 180 },
          )
        : ''}
      <p class="small">Latest: ${latest.utilizationPercent ?? '—'}% ${source} busy${source === 'GPU' ? '' : ' (the whole machine, every process on it)'}, ${formatBytes(latest.memoryUsedBytes)} of ${formatBytes(latest.memoryTotalBytes)}${
        source === 'GPU' ? '' : ' host memory'}${
        latest.temperatureC != null ? `, ${latest.temperatureC} °C` : ''
      }${latest.powerWatts != null ? `, ${Math.round(latest.powerWatts)} W` : ''} (${timeAgo(latest.at)}).</p>`
    : html`<p class="muted small">No telemetry reported yet.</p>`;
  return html`<article class="card worker" id="worker-${info.id}" aria-labelledby="worker-${info.id}-h">
    <header class="worker-head">
      <h2 id="worker-${info.id}-h">${info.id}</h2>
      <span class="muted small">${info.host} · pid ${info.pid} · up since ${timeAgo(info.since)} · beat ${timeAgo(info.lastBeat)}</span>
    </header>
    <div class="grid-2">
      <div>
        <dl class="facts">${facts.map((f) => html`<dt>${f.label}</dt><dd>${f.value}</dd>`)}
          <dt>Platform</dt><dd class="mono">${info.platform ?? 'linux-x86_64'}</dd>
          <dt>Targets</dt><dd class="mono">${info.targets.length ? info.targets.join(', ') : 'none'}</dd>
          <dt>Current build</dt><dd>${
            w.current
              ? html`<div data-build-id="${w.current.buildKey}" class="current">${buildLink(w.current.buildKey)} <span class="mono small">${w.current.targetKey}</span> ${stateBadge(w.current.state)} ${progressBar(w.current)}</div>`
              : info.currentBuild
                ? buildLink(info.currentBuild)
                : html`<span class="muted">idle</span>`
          }</dd>
        </dl>
        ${info.notes.length ? html`<ul class="notes small">${info.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
      </div>
      <div>${telemetry}</div>
    </div>
  </article>`;
}
