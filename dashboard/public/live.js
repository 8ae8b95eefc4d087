// Live tables: every element with data-build-id follows the farm-wide event stream (state and
// progress of every build). A table body with data-refresh is re-rendered by the server when a
// build it does not show yet appears, when a row changes state, and every few seconds as a
// fallback, so new and finished builds show up without a reload. A request page's header state
// ([data-request-state]) follows its matrix cells.
'use strict';
(function () {
  const TERMINAL = ['succeeded', 'failed', 'cancelled'];
  const refreshBody = document.querySelector('[data-refresh]');
  let refreshTimer = null;
  let refreshing = false;

  function rows(id) {
    return document.querySelectorAll('[data-build-id="' + CSS.escape(id) + '"]');
  }

  function setState(el, state) {
    el.setAttribute('data-state', state);
    el.querySelectorAll('[data-field="state"]').forEach((badge) => {
      badge.textContent = state;
      if (badge.classList.contains('badge')) badge.className = 'badge state-' + state;
    });
    if (el.classList.contains('cell')) el.className = 'cell state-bg-' + state;
    const progress = el.querySelector('progress');
    const label = el.querySelector('[data-field="progress-label"]');
    if (state === 'succeeded') {
      if (progress) progress.value = 100;
      if (label) label.textContent = progress ? 'done' : '';
    } else if (state === 'queued') {
      if (progress) progress.value = 0;
      if (label) label.textContent = progress ? 'waiting' : '';
    } else if (TERMINAL.includes(state)) {
      if (progress) progress.value = 0;
      if (label) label.textContent = '';
    }
    if (TERMINAL.includes(state)) {
      el.querySelectorAll('[data-since]').forEach((d) => d.removeAttribute('data-since'));
      // A cancel button no longer applies; the refreshed row brings a retry button where one does.
      el.querySelectorAll('form[action$="/cancel"]').forEach((f) => f.remove());
    }
  }

  // The API's rule for a request's state from its builds' (matrixState in src/api/routes/requests.ts).
  function matrixState(states) {
    if (states.length === 0) return 'unknown';
    if (states.includes('active')) return 'running';
    if (states.includes('queued')) return states.every((s) => s === 'queued') ? 'queued' : 'waiting';
    if (states.includes('failed')) return 'failed';
    if (states.includes('cancelled')) return 'cancelled';
    return 'succeeded';
  }

  function updateRequestState() {
    const holder = document.querySelector('[data-request-state]');
    if (!holder) return;
    const states = Array.from(document.querySelectorAll('.matrix [data-build-id], .sweep [data-build-id]'), (cell) => cell.getAttribute('data-state'));
    const state = matrixState(states);
    const badge = holder.querySelector('[data-field="state"]');
    if (badge && badge.textContent !== state) {
      badge.textContent = state;
      badge.className = 'badge state-' + state;
    }
    // "Nothing is building" stops being news once nothing is left to build.
    const note = document.getElementById('waiting-note');
    if (note && state !== 'waiting' && state !== 'queued') note.remove();
  }

  function setProgress(el, phase, percent) {
    const progress = el.querySelector('progress');
    if (progress) progress.value = percent;
    const label = el.querySelector('[data-field="progress-label"]');
    if (label) label.textContent = phase + ' ' + percent + '%';
  }

  async function refresh() {
    if (!refreshBody || refreshing) return;
    refreshing = true;
    try {
      const response = await fetch(refreshBody.getAttribute('data-refresh'), { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (response.ok) {
        const html = await response.text();
        // Keep keyboard focus where it was if the focused row survives the refresh.
        const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-build-id]');
        const focusedId = focused ? focused.getAttribute('data-build-id') : null;
        const template = document.createElement('template');
        template.innerHTML = html;
        refreshBody.replaceChildren(template.content);
        // A refreshed sweep section brings its scatter's data anew.
        if (window.kilnCharts) window.kilnCharts.draw(refreshBody);
        if (focusedId) {
          const again = refreshBody.querySelector('[data-build-id="' + CSS.escape(focusedId) + '"] a, [data-build-id="' + CSS.escape(focusedId) + '"] button');
          if (again) again.focus();
        }
        window.kiln.tick(refreshBody);
      }
    } catch (_) {
      /* the next event or the periodic refresh tries again */
    } finally {
      refreshing = false;
    }
  }

  function scheduleRefresh(delay) {
    if (!refreshBody || refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh();
    }, delay);
  }

  function onEvent(event) {
    const found = rows(event.buildKey);
    if (found.length === 0) {
      if (event.type === 'state') scheduleRefresh(300);
      return;
    }
    found.forEach((el) => {
      if (event.type === 'state') setState(el, event.state);
      else if (event.type === 'progress' && el.getAttribute('data-state') !== 'succeeded') {
        if (el.getAttribute('data-state') !== 'active') setState(el, 'active');
        setProgress(el, event.phase, event.percent);
      }
    });
    if (event.type === 'state') scheduleRefresh(300);
    updateRequestState();
  }

  if (document.querySelector('[data-build-id]') || refreshBody) {
    const source = new EventSource('/dashboard/api/events');
    source.addEventListener('state', (e) => onEvent(JSON.parse(e.data)));
    source.addEventListener('progress', (e) => onEvent(JSON.parse(e.data)));
    window.addEventListener('pagehide', () => source.close());
  }
  document.addEventListener('kiln:action', () => scheduleRefresh(100));
  // Builds queued for a target no worker serves publish no event; look for them now and then.
  if (refreshBody) setInterval(() => { if (!document.hidden) scheduleRefresh(0); }, 10000);
})();
