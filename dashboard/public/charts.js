// Draws every <canvas data-chart="id"> from the JSON spec in <script id="id">, with Chart.js
// (served from the chart.js npm package). Animations are off: charts are read, not watched.
'use strict';
(function () {
  const STATE = { queued: '#4b5563', active: '#1d4ed8', succeeded: '#15803d', failed: '#b91c1c', cancelled: '#92400e' };
  const PALETTE = ['#1d4ed8', '#b45309', '#15803d', '#7c3aed', '#be123c', '#0e7490', '#4b5563'];
  const charts = new Map();

  function config(spec) {
    const doughnut = spec.type === 'doughnut';
    const datasets = spec.datasets.map((d, i) => {
      const color = d.color || PALETTE[i % PALETTE.length];
      if (spec.type === 'scatter') return { label: d.label, data: d.points, backgroundColor: color, borderColor: color, pointRadius: d.radius || 5, pointHoverRadius: (d.radius || 5) + 2, pointStyle: d.pointStyle || 'circle' };
      const linear = spec.x && spec.x.linear;
      const data = linear ? d.data.map((y, j) => ({ x: spec.labels[j], y })) : d.data;
      const base = { label: d.label, data, stack: spec.stacked ? 'all' : d.stack };
      if (doughnut) return Object.assign(base, { backgroundColor: spec.labels.map((l, j) => STATE[l] || PALETTE[j % PALETTE.length]), borderColor: '#fff', borderWidth: 2 });
      if (spec.type === 'line') return Object.assign(base, { borderColor: color, backgroundColor: color, pointRadius: spec.labels.length > 40 ? 0 : 3, borderWidth: 2, tension: 0.2, spanGaps: true });
      return Object.assign(base, { backgroundColor: color, borderColor: color, borderWidth: 0, borderRadius: 3 });
    });
    const axis = (a, stacked) => Object.assign(
      { stacked: Boolean(stacked), grid: { color: '#e5e7eb' }, ticks: { color: '#374151', autoSkip: true, maxRotation: 0, maxTicksLimit: 12 }, title: { display: Boolean(a && a.title), text: (a && a.title) || '', color: '#374151' } },
      a && a.log ? { type: 'logarithmic' } : {},
      a && a.linear ? { type: 'linear' } : {},
      a && a.min !== undefined ? { min: a.min } : {},
      a && a.max !== undefined ? { max: a.max } : {},
    );
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins: { legend: { position: 'bottom', labels: { color: '#111827', boxWidth: 14 } }, tooltip: { enabled: true } },
    };
    if (!doughnut) options.scales = { x: axis(spec.x, spec.stacked), y: axis(spec.y, spec.stacked) };
    // A scatter's points carry their own name (a sweep point's values) for the tooltip.
    if (spec.type === 'scatter') options.plugins.tooltip.callbacks = { label: (c) => c.raw.label + ': ' + c.raw.x.toPrecision(4) + ' ms, ' + c.raw.y.toPrecision(3) };
    else options.plugins.legend.position = 'right';
    return { type: spec.type, data: spec.type === 'scatter' || (spec.x && spec.x.linear) ? { datasets } : { labels: spec.labels.map(String), datasets }, options };
  }

  function draw(root) {
    if (typeof window.Chart !== 'function') return;
    window.Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    (root || document).querySelectorAll('canvas[data-chart]').forEach((canvas) => {
      const block = document.getElementById(canvas.getAttribute('data-chart'));
      if (!block) return;
      const previous = charts.get(canvas.id);
      if (previous) previous.destroy();
      charts.set(canvas.id, new window.Chart(canvas, config(JSON.parse(block.textContent))));
    });
  }

  window.kilnCharts = { draw };
  draw();
})();
