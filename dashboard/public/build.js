// The build page: follows the build's own event stream (state, progress and log lines) and,
// when it finishes, re-renders the page body from the server (report, charts, artifacts).
'use strict';
(function () {
  const TERMINAL = ['succeeded', 'failed', 'cancelled'];
  const MAX_LINES = 2000;
  let source = null;

  function follow() {
    const head = document.querySelector('[data-live-build]');
    if (!head) return;
    const id = head.getAttribute('data-live-build');
    const log = document.getElementById('log');
    let replaced = false;
    source = new EventSource('/dashboard/api/builds/' + encodeURIComponent(id) + '/events');

    source.addEventListener('state', (e) => {
      const event = JSON.parse(e.data);
      head.setAttribute('data-state', event.state);
      head.querySelectorAll('[data-field="state"]').forEach((b) => {
        b.textContent = event.state;
        b.className = 'badge state-' + event.state;
      });
      if (TERMINAL.includes(event.state)) {
        source.close();
        source = null;
        reloadBody();
      }
    });
    source.addEventListener('progress', (e) => {
      const event = JSON.parse(e.data);
      const progress = head.querySelector('progress');
      if (progress) progress.value = event.percent;
      const label = head.querySelector('[data-field="progress-label"]');
      if (label) label.textContent = event.phase + ' ' + event.percent + '%';
    });
    source.addEventListener('log', (e) => {
      if (!log) return;
      const event = JSON.parse(e.data);
      // The stream starts by replaying every line kept so far: it replaces what the page showed.
      if (!replaced) {
        log.textContent = '';
        replaced = true;
      }
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      log.append(event.line + '\n');
      while (log.childNodes.length > MAX_LINES) log.removeChild(log.firstChild);
      if (atBottom) log.scrollTop = log.scrollHeight;
    });
    source.addEventListener('error', () => {
      replaced = false; // a reconnect replays the kept lines again
    });
  }

  async function reloadBody() {
    try {
      const response = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = doc.querySelector('main');
      const main = document.querySelector('main');
      if (!fresh || !main) return;
      main.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
      window.kiln.tick(main);
      if (window.kilnCharts) window.kilnCharts.draw(main);
      const log = document.getElementById('log');
      if (log) log.scrollTop = log.scrollHeight;
      follow();
    } catch (_) {
      /* the page still shows the final state; a reload shows the rest */
    }
  }

  document.addEventListener('kiln:action', () => {
    if (source) return; // the stream will report the change
    reloadBody();
  });
  const log = document.getElementById('log');
  if (log) log.scrollTop = log.scrollHeight;
  follow();
})();
