// Shared by every dashboard page: relative times, action buttons (fetch with the CSRF token,
// falling back to a plain form post without JavaScript) and small notices.
'use strict';
(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : '';

  function fmtAge(iso) {
    const ms = Date.now() - Date.parse(iso);
    if (!Number.isFinite(ms)) return '—';
    if (ms < 10000) return 'just now';
    if (ms < 60000) return Math.floor(ms / 1000) + ' s ago';
    if (ms < 3600000) return Math.floor(ms / 60000) + ' min ago';
    if (ms < 48 * 3600000) return Math.floor(ms / 3600000) + ' h ago';
    return Math.floor(ms / 86400000) + ' d ago';
  }

  function fmtDuration(ms) {
    if (!Number.isFinite(ms) || ms < 0) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + String(Math.floor(s % 60)).padStart(2, '0') + ' s';
    const h = Math.floor(m / 60);
    return h + ' h ' + String(m % 60).padStart(2, '0') + ' min';
  }

  function tick(root) {
    (root || document).querySelectorAll('time[data-relative]').forEach((el) => {
      el.textContent = fmtAge(el.getAttribute('datetime'));
    });
    (root || document).querySelectorAll('[data-since]').forEach((el) => {
      el.textContent = fmtDuration(Date.now() - Date.parse(el.getAttribute('data-since')));
    });
  }

  function toast(message, isError) {
    const box = document.getElementById('toast');
    if (!box) return;
    const div = document.createElement('div');
    div.className = 'msg' + (isError ? ' error' : '');
    div.textContent = message;
    box.appendChild(div);
    setTimeout(() => div.remove(), isError ? 8000 : 4000);
  }

  /** POSTs to a dashboard action; resolves with the JSON body, rejects with the server's message. */
  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : response.status + ' ' + response.statusText;
      const err = new Error(message);
      err.status = response.status;
      throw err;
    }
    return data;
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-action')) return;
    event.preventDefault();
    const confirmText = form.getAttribute('data-confirm');
    if (confirmText && !window.confirm(confirmText)) return;
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    try {
      const result = await post(form.action);
      toast('Build ' + result.buildKey.slice(0, 12) + ': ' + (result.cancelRequested ? 'cancel requested' : result.state));
      document.dispatchEvent(new CustomEvent('kiln:action', { detail: result }));
    } catch (err) {
      toast(err.message, true);
    } finally {
      if (button) button.disabled = false;
    }
  });

  window.kiln = { csrf, fmtAge, fmtDuration, tick, toast, post };
  tick();
  setInterval(tick, 5000);
})();
