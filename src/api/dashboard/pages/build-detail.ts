import { LOG_FILE } from '../../../core/manifest';
import type { BenchmarkReport, ValidationReport } from '../../../core/report';
import type { BuildDetailData, TimelineStep } from '../data/build-detail';
import { formatBytes, formatDuration, formatNumber, shortId } from '../format';
import { html, type Html } from '../html';
import { hasRole, type Session } from '../sessions';
import { buildActions } from './builds';
import { detailsSection, tensorRtSection } from './build-report';
import { driftSection, speedupSection } from './build-insight';
import { layerProfileSection } from './layer-profile';
import { profilesSection } from './build-profiles';
import { chart, duration, empty, modelLink, progressBar, section, stateBadge, timeAgo } from './components';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function buildDetailBody(d: BuildDetailData, session: Session): Html {
  const r = d.record;
  const report = r.report;
  const label = d.model?.labels.length ? d.model.labels.join(', ') : null;
  const live = !TERMINAL.has(r.state);
  const facts = html`<dl class="facts">
    <dt>Model</dt><dd>${modelLink(r.modelId, label)} <span class="mono muted small">${shortId(r.modelId)}</span></dd>
    <dt>Target</dt><dd class="mono"><a href="/dashboard/builds?target=${encodeURIComponent(r.targetKey)}">${r.targetKey}</a></dd>
    <dt>Toolchain</dt><dd>${report ? `${report.toolchain.name} ${report.toolchain.version}` : r.toolchain}</dd>
    <dt>Worker</dt><dd>${r.worker ?? '—'}</dd>
    <dt>Attempts</dt><dd>${r.attempts}</dd>
    <dt>Created</dt><dd>${timeAgo(r.createdAt)}</dd>
    <dt>Started</dt><dd>${timeAgo(r.startedAt)}</dd>
    <dt>Finished</dt><dd>${timeAgo(r.finishedAt)}</dd>
    <dt>Start → finish</dt><dd>${duration(r)} <span class="muted small">queue wait excluded, publishing included</span></dd>
    <dt>Validation</dt><dd>${r.verdict ? verdictBadge(r.verdict) : '—'}</dd>
    <dt>Requests</dt><dd>${d.requests.length ? d.requests.map((id, i) => html`${i ? ', ' : ''}<a class="mono" href="/dashboard/requests/${id}">${id.slice(0, 8)}</a>`) : '—'}</dd>
  </dl>`;

  return html`<div class="title-row" data-build-id="${r.buildKey}" data-state="${r.state}" ${live ? html`data-live-build="${r.buildKey}"` : ''}>
      <h1>Build <span class="mono">${shortId(r.buildKey)}</span></h1>
      ${stateBadge(r.state)}
      ${progressBar(r)}
      ${hasRole(session, 'builder') ? html`<div class="actions" data-field="actions">${buildActions(r, session.csrf)}</div>` : ''}
    </div>
    <p class="mono muted small full-id">${r.buildKey}</p>
    ${d.waiting ? html`<div class="alert" role="status" data-field="waiting" data-reason="${d.waiting.reason}"><strong>Waiting:</strong> ${d.waiting.message}</div>` : ''}
    ${r.error ? html`<div class="alert" role="alert"><strong>${r.state === 'failed' ? 'Failed' : 'Note'}:</strong> <span class="pre-wrap">${r.error}</span></div>` : ''}
    <div class="grid-2">
      ${section('Facts', facts)}
      ${section('Timeline', html`${timelineView(d.timeline, r.state)}<p class="small muted">Wall clock per phase on the worker; “building” includes toolchain setup around the engine build itself.</p>`, 'timeline-h')}
    </div>
    ${section('Log', logView(d, live), 'log-h')}
    ${validationSection(report?.validation ?? null, report?.skipped)}
    ${driftSection(report?.validation?.drift)}
    ${benchmarkSection(report?.benchmark ?? null)}
    ${speedupSection(report?.benchmark)}
    ${profilesSection(d.profiles)}
    ${layerProfileSection(d.layerProfile, report?.layerProfile, r.buildKey, d.comparable)}
    ${artifactsSection(d)}
    ${report && report.toolchain.name === 'tensorrt' ? tensorRtSection(report, r.spec) : ''}
    ${report ? detailsSection(report) : ''}
    ${section('Spec', html`<details><summary>The build spec (JSON): model, target and every option, whose canonical form hashes to the build key</summary><pre class="code">${JSON.stringify(r.spec, null, 2)}</pre></details>`, 'spec-h')}`;
}

function verdictBadge(verdict: string): Html {
  return html`<span class="badge verdict-${verdict}">${verdict}</span>`;
}

function timelineView(steps: TimelineStep[], state: string): Html {
  if (steps.length === 0) return empty('No timeline yet.');
  const first = Date.parse(steps[0].start);
  const lastEnd = steps.reduce((m, s) => Math.max(m, Date.parse(s.end ?? new Date().toISOString())), first);
  const span = Math.max(1, lastEnd - first);
  const width = (s: TimelineStep) => ((Date.parse(s.end ?? new Date().toISOString()) - Date.parse(s.start)) / span) * 100;
  return html`<div class="timeline-bar" aria-hidden="true">${steps.map(
    (s) => html`<span class="seg seg-${s.name}" style="width:${Math.max(0.5, width(s)).toFixed(2)}%" title="${s.name}"></span>`,
  )}</div>
    <ol class="timeline">${steps.map((s, i) => {
      const open = s.end === null && i === steps.length - 1 && !TERMINAL.has(state);
      const ms = Date.parse(s.end ?? new Date().toISOString()) - Date.parse(s.start);
      return html`<li><span class="dot seg-${s.name}" aria-hidden="true"></span><strong>${s.name}</strong>
        <span class="muted">${new Date(s.start).toISOString().slice(11, 19)} UTC</span>
        <span class="num">${s.end === null && !open ? '' : formatDuration(ms)}${open ? ' so far' : ''}</span></li>`;
    })}
    ${TERMINAL.has(state) ? html`<li><span class="dot state-dot-${state}" aria-hidden="true"></span><strong>${state}</strong></li>` : ''}</ol>`;
}

function logView(d: BuildDetailData, live: boolean): Html {
  const hasPublishedLog = d.published?.files.some((f) => f.name === LOG_FILE);
  return html`<pre class="log" id="log" tabindex="0" aria-label="Build log, last lines">${d.logTail.join('\n')}</pre>
    <p class="small muted">${live ? html`<span id="log-status">Live: new lines appear as the worker writes them.</span> ` : ''}${
      hasPublishedLog ? html`<a href="/dashboard/artifacts/${d.record.buildKey}/${LOG_FILE}">Download the whole log</a>` : html`<a href="/dashboard/builds/${d.record.buildKey}/log">The whole log (as kept while running)</a>`
    }</p>`;
}

function validationSection(v: ValidationReport | null, skipped: string | undefined): Html {
  if (skipped) return section('Validation', html`<p>${verdictBadge('skipped')} Validation and the benchmark were not run: <span class="pre-wrap">${skipped}</span>.</p>`, 'validation-h');
  if (!v) return section('Validation', empty('No validation yet.'), 'validation-h');
  const inputs = Object.entries(v.inputs);
  return section(
    'Validation',
    html`<p>${verdictBadge(v.verdict)} against <strong>${v.reference}</strong>, isclose(rtol=${v.rtol}, atol=${v.atol}); an output fails when over ${(v.failRatio * 100).toFixed(2)}% of its elements are outside. Seed ${v.seed}.</p>
      <table id="validation-table">
        <thead><tr><th scope="col">Output</th><th scope="col" class="num">Elements</th><th scope="col" class="num">Outside tolerance</th><th scope="col" class="num">Share</th>
          <th scope="col" class="num">Max abs error</th><th scope="col" class="num">Max rel error</th><th scope="col" class="num">Non-finite</th><th scope="col">Verdict</th></tr></thead>
        <tbody>${v.outputs.map(
          (o) => html`<tr>
            <th scope="row" class="mono">${o.name}</th><td class="num">${o.elements.toLocaleString('en-US')}</td><td class="num">${o.mismatched.toLocaleString('en-US')}</td>
            <td class="num">${(o.mismatchRatio * 100).toFixed(3)}%</td><td class="num">${o.maxAbsError.toExponential(2)}</td><td class="num">${o.maxRelError.toExponential(2)}</td>
            <td class="num">${o.nonFinite}</td><td>${verdictBadge(o.verdict)}</td></tr>`,
        )}</tbody>
      </table>
      ${inputs.length ? html`<p class="small muted">Inputs: ${inputs.map(([name, i], n) => html`${n ? '; ' : ''}<span class="mono">${name}</span> ${i.type}[${i.dims.join('×')}] (${i.source})`)}</p>` : ''}`,
    'validation-h',
  );
}

function benchmarkSection(b: BenchmarkReport | null): Html {
  if (!b || b.rows.length === 0) return section('Benchmark', empty('No benchmark yet.'), 'benchmark-h');
  const rows = [...b.rows].sort((a, c) => a.batch - c.batch);
  const batches = rows.map((r) => r.batch);
  return section(
    'Benchmark',
    html`<p class="small muted">${b.dynamicBatch ? 'Dynamic batch: measured at each batch size.' : 'Fixed batch: measured at the model’s own batch size.'}</p>
      <div class="grid-2">
        ${chart('chart-throughput', 'Throughput by batch size', {
          type: 'line',
          labels: batches,
          x: { title: 'batch size' },
          y: { title: 'samples / s', min: 0 },
          datasets: [{ label: 'samples/s', data: rows.map((r) => r.throughputSps), color: '#2563eb' }],
        })}
        ${chart('chart-latency', 'Latency percentiles by batch size', {
          type: 'bar',
          labels: batches,
          x: { title: 'batch size' },
          y: { title: 'ms per run', min: 0 },
          datasets: [
            { label: 'median', data: rows.map((r) => r.latencyMs.median), color: '#93c5fd' },
            { label: 'p90', data: rows.map((r) => r.latencyMs.p90), color: '#3b82f6' },
            { label: 'p95', data: rows.map((r) => r.latencyMs.p95), color: '#1d4ed8' },
            { label: 'p99', data: rows.map((r) => r.latencyMs.p99), color: '#1e3a8a' },
          ],
        })}
      </div>
      <table id="benchmark-table">
        <thead><tr><th scope="col" class="num">Batch</th><th scope="col" class="num">Iterations</th><th scope="col" class="num">Samples/s</th><th scope="col" class="num">Runs/s</th>
          <th scope="col" class="num">Median ms</th><th scope="col" class="num">p90 ms</th><th scope="col" class="num">p99 ms</th><th scope="col" class="num">Memory</th></tr></thead>
        <tbody>${rows.map(
          (r) => html`<tr><th scope="row" class="num">${r.batch}</th><td class="num">${r.iterations}</td><td class="num">${formatNumber(r.throughputSps)}</td><td class="num">${formatNumber(r.throughputQps)}</td>
            <td class="num">${formatNumber(r.latencyMs.median, 3)}</td><td class="num">${formatNumber(r.latencyMs.p90, 3)}</td><td class="num">${formatNumber(r.latencyMs.p99, 3)}</td><td class="num">${formatBytes(r.memoryBytes)}</td></tr>`,
        )}</tbody>
      </table>`,
    'benchmark-h',
  );
}

function artifactsSection(d: BuildDetailData): Html {
  const p = d.published;
  if (!p) return section('Artifacts', empty(d.record.state === 'succeeded' ? 'Another build of this key published the set, or the index does not know it yet.' : 'Nothing published yet.'), 'artifacts-h');
  return section(
    'Artifacts',
    html`<p class="small muted">Published ${timeAgo(p.publishedAt)}; validation ${p.validation}. Every file is verified against its sha256 on the way in and out.</p>
      <table id="artifacts-table">
        <thead><tr><th scope="col">File</th><th scope="col">Role</th><th scope="col" class="num">Size</th><th scope="col">sha256</th></tr></thead>
        <tbody>${p.files.map(
          (f) => html`<tr><th scope="row"><a href="/dashboard/artifacts/${p.buildKey}/${f.name}" download>${f.name}</a>${f.name === p.primary ? html` <span class="badge">primary</span>` : ''}</th>
            <td>${f.role}</td><td class="num">${formatBytes(f.size)}</td><td class="mono small sha">${f.sha256}</td></tr>`,
        )}</tbody>
      </table>`,
    'artifacts-h',
  );
}
