/**
 * Layer profiles on the dashboard: the build page's top layers by time (a bar chart and a table),
 * the full table behind a summary line, a form to compare with another build of the same model,
 * and the compare view itself.
 */
import type { LayerProfile, LayerProfileSummary } from '../../../core/layer-profile';
import { TOP_LAYERS } from '../../../core/layer-profile';
import type { BuildComparison } from '../../layer-profiles';
import { formatNumber, shortId } from '../format';
import { html, type Html } from '../html';
import { chart, empty, section } from './components';

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

export function layerProfileSection(profile: LayerProfile | null, summary: LayerProfileSummary | undefined, buildKey: string, comparable: { buildKey: string; targetKey: string }[]): Html {
  if (!profile && !summary) return html``;
  const layers = profile?.layers ?? summary!.top;
  const source = profile?.source ?? summary!.source;
  const totalMs = profile?.totalMs ?? summary!.totalMs;
  const top = layers.slice(0, TOP_LAYERS);
  const rows = (list: typeof layers) =>
    list.map(
      (l, i) => html`<tr><td class="num">${i + 1}</td><th scope="row" class="mono">${l.name}</th><td>${l.opType ?? '—'}</td><td class="num">${formatNumber(l.ms, 4)}</td><td class="num">${pct(l.share)}</td></tr>`,
    );
  const head = html`<thead><tr><th scope="col" class="num">#</th><th scope="col">Layer</th><th scope="col">Op type</th><th scope="col" class="num">Mean ms</th><th scope="col" class="num">Share</th></tr></thead>`;
  return section(
    'Layer profile',
    html`<p class="small muted">From ${source}: batch ${profile?.batch ?? summary!.batch}, ${profile?.runs ?? summary!.runs} profiled runs; ${formatNumber(totalMs, 3)} ms of layer time per run over ${layers.length === top.length && !profile ? summary!.layerCount : layers.length} layers.</p>
      ${chart('chart-top-layers', `Top ${top.length} layers by time`, {
        type: 'bar',
        horizontal: true,
        labels: top.map((l) => (l.opType ? `${l.name} (${l.opType})` : l.name)),
        x: { title: 'share of layer time, %' },
        datasets: [{ label: 'share %', data: top.map((l) => Math.round(l.share * 1000) / 10), color: '#7c3aed' }],
      }, { height: Math.max(180, top.length * 34), table: false })}
      <table id="top-layers-table">${head}<tbody>${rows(top)}</tbody></table>
      ${profile && profile.layers.length > top.length ? html`<details><summary>All ${profile.layers.length} layers</summary><table id="all-layers-table">${head}<tbody>${rows(profile.layers)}</tbody></table></details>` : ''}
      ${comparable.length ? html`<form class="inline-form" method="get" action="/dashboard/builds/${buildKey}/compare">
          <label>Compare layer by layer with <select name="with">${comparable.map((c) => html`<option value="${c.buildKey}">${shortId(c.buildKey)} · ${c.targetKey}</option>`)}</select></label>
          <button type="submit">Compare</button></form>` : ''}`,
    'layers-h',
  );
}

export function compareBody(c: BuildComparison, modelLabel: string | null): Html {
  const side = (s: BuildComparison['a'], name: string) =>
    html`<dt>${name}</dt><dd><a class="mono" href="/dashboard/builds/${s.buildKey}">${shortId(s.buildKey)}</a> <span class="mono">${s.targetKey}</span> · ${s.source}, batch ${s.batch}, ${s.layers} layers, ${formatNumber(s.totalMs, 3)} ms</dd>`;
  const ms = (n: number | null) => (n === null ? '—' : formatNumber(n, 4));
  const changed = c.layers.filter((l) => l.deltaMs !== null).slice(0, TOP_LAYERS);
  return html`<h1>Compare layers</h1>
    <p class="muted">Model ${modelLabel ?? shortId(c.modelId)} <span class="mono small">${shortId(c.modelId)}</span>: layers matched by name; a layer only one build has was fused, split or renamed by its toolchain.</p>
    ${section('Builds', html`<dl class="facts">${side(c.a, 'A')}${side(c.b, 'B')}<dt>B − A</dt><dd>${formatNumber(c.b.totalMs - c.a.totalMs, 3)} ms of layer time per run</dd></dl>`)}
    ${changed.length
      ? section('Largest changes', chart('chart-compare-layers', 'Mean ms per layer, A and B', {
          type: 'bar',
          horizontal: true,
          labels: changed.map((l) => l.name),
          x: { title: 'ms per run' },
          datasets: [
            { label: 'A', data: changed.map((l) => l.aMs), color: '#b45309' },
            { label: 'B', data: changed.map((l) => l.bMs), color: '#1d4ed8' },
          ],
        }, { height: Math.max(180, changed.length * 30) }))
      : section('Largest changes', empty('No layer is in both builds.'))}
    ${section('Every layer', html`<table id="compare-table">
      <thead><tr><th scope="col">Layer</th><th scope="col">Op type</th><th scope="col" class="num">A ms</th><th scope="col" class="num">B ms</th><th scope="col" class="num">B − A ms</th><th scope="col" class="num">B ÷ A</th></tr></thead>
      <tbody>${c.layers.map(
        (l) => html`<tr><th scope="row" class="mono">${l.name}</th><td>${l.opType ?? '—'}</td><td class="num">${ms(l.aMs)}</td><td class="num">${ms(l.bMs)}</td><td class="num">${ms(l.deltaMs)}</td><td class="num">${l.ratio === null ? '—' : `${formatNumber(l.ratio, 2)}×`}</td></tr>`,
      )}</tbody></table>`)}`;
}
