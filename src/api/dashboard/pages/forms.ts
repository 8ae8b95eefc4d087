/** The sign-in form, the submit form, and error pages. */
import type { ModelRecord } from '../../../state/model-registry';
import { html, type Html } from '../html';

export function signInBody(next: string, hint: Html, error?: string): Html {
  return html`<div class="narrow card">
    <h1>Sign in</h1>
    <p>Use a Kiln token (reader, builder or admin). It is checked once and not kept in the browser: a session cookie is.</p>
    <p class="small" id="token-hint">${hint}</p>
    ${error ? html`<div class="alert" role="alert">${error}</div>` : ''}
    <form method="post" action="/dashboard/sign-in" class="stack">
      <input type="hidden" name="next" value="${next}">
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus spellcheck="false">
      <button type="submit">Sign in</button>
    </form>
  </div>`;
}

/** What the person typed into the submit form, to give it back with the error when it is refused. */
export interface SubmitFormValues {
  model?: string;
  targets?: string[];
  moreTargets?: string;
  options?: string;
}

/** A model's labels as one name: `resnet18@1, classifier@1`, or the sha256's first 12 digits. */
export function modelName(m: Pick<ModelRecord, 'labels' | 'sha256'>): string {
  return m.labels.length ? m.labels.join(', ') : m.sha256.slice(0, 12);
}

/**
 * The form posts to its own page (POST /dashboard/submit), so a refused submission comes back at
 * the same address, with everything typed still in place and the problem above it.
 */
export function submitBody(
  choices: { models: ModelRecord[]; more: boolean },
  targets: string[],
  liveTargets: Set<string>,
  csrf: string,
  error?: string,
  values?: SubmitFormValues,
): Html {
  const { models } = choices;
  if (models.length === 0) return html`<h1>Submit</h1><p class="empty">Push a model first: <code>kiln models push model.onnx --name mymodel</code>.</p>`;
  // Targets typed as keys that are also listed come back ticked; the rest stay in the text field.
  const ticked = (t: string, i: number) => (values ? (values.targets ?? []).includes(t) : liveTargets.has(t) && i < 64);
  return html`<h1>Submit a request</h1>
    ${error ? html`<div class="alert" role="alert" id="submit-error">${error}</div>` : ''}
    <form method="post" action="/dashboard/submit" class="stack card narrow" id="submit-form">
      <input type="hidden" name="_csrf" value="${csrf}">
      <label for="model">Model</label>
      <select id="model" name="model" required>${models.map((m) => {
        const value = m.labels[m.labels.length - 1] ?? m.sha256;
        const selected = values?.model !== undefined && (values.model === value || values.model === m.sha256 || m.labels.includes(values.model));
        return html`<option value="${value}" ${selected ? html`selected` : ''}>${modelName(m)}${m.labels.length ? ` (${m.sha256.slice(0, 12)})` : ''}</option>`;
      })}</select>
      ${choices.more ? html`<p class="muted small">The newest ${models.length} models are listed; submit an older one with <code>kiln build &lt;model&gt;</code> or <code>POST /v1/builds</code>.</p>` : ''}
      <fieldset>
        <legend>Targets</legend>
        ${targets.map(
          (t, i) => html`<label class="check"><input type="checkbox" name="targets" value="${t}" ${ticked(t, i) ? html`checked` : ''}> <span class="mono">${t}</span>${liveTargets.has(t) ? '' : html` <span class="muted small">(no live worker)</span>`}</label>`,
        )}
        <label for="more-targets">More target keys (comma separated)</label>
        <input id="more-targets" name="moreTargets" placeholder="trt10.9.0-sm89, ort1.30.0-x86_64-avx2" spellcheck="false" value="${values?.moreTargets ?? ''}">
      </fieldset>
      <label for="options">Options (JSON, optional)</label>
      <textarea id="options" name="options" rows="5" spellcheck="false" placeholder='{"benchmark": {"maxBatch": 8}}'>${values?.options ?? ''}</textarea>
      <button type="submit">Submit</button>
    </form>`;
}

export function errorBody(status: number, message: string): Html {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 400 ? 'Bad request' : 'Something went wrong';
  return html`<div class="narrow card"><h1>${title}</h1><p>${message}</p><p><a href="/dashboard">Back to the overview</a></p></div>`;
}
