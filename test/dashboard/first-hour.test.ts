/**
 * What a newcomer meets in the dashboard, in headless Chromium against a private farm whose CPU
 * worker starts late (so a request can be watched going from queued to succeeded): the request
 * page's header following its cells live, the submit form keeping what was typed when it is
 * refused, a model with two labels named by both, no Retry for a build that failed on its input,
 * error excerpts ending at a word, opsets without ONNX Runtime's own domains, and not one request
 * leaving the page for the internet (bull-board included). Plus the ways in: `/` and sign-in.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';
import { localTargetKey } from '../../src/worker/toolchains/onnxruntime/detect';
import { symbolicDimsModel, tinyConv } from '../models';
import { launchBrowser, signIn, type Browser } from './browser';

const quick = { benchmark: { maxBatch: 2, warmup: 1, iterations: 3 } };

describe('dashboard, as a newcomer meets it', () => {
  let farm: TestFarm;
  let browser: Browser;
  /** The CPU target of this machine, which the worker started by the tests serves. */
  const target = localTargetKey();
  /** Every URL the browser asked for, and those that were not the farm's (aborted). */
  const requested: string[] = [];
  const blocked: string[] = [];

  const post = async (body: unknown) => {
    const response = await farm.request('POST', '/v1/builds', { role: 'builder', body });
    expect([200, 202]).toContain(response.status);
    return response.json();
  };
  const waitForBuild = async (id: string, states: string[]) => {
    for (;;) {
      const record = await (await farm.request('GET', `/v1/builds/${id}`, { role: 'reader' })).json();
      if (states.includes(record.state)) return record;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    farm = await startFarm();
    const upload = (query: string, body: Buffer) => farm.request('POST', `/v1/models?${query}`, { role: 'builder', body, headers: { 'content-type': 'application/octet-stream' } });
    expect((await upload('name=tiny-conv', tinyConv())).status).toBe(201);
    // The same file under a second name: one model, two labels.
    expect((await upload('name=classifier', tinyConv())).status).toBe(200);
    expect((await upload('name=needs-shapes', symbolicDimsModel())).status).toBe(201);
    browser = await launchBrowser();
    const origin = new URL(farm.url).origin;
    await browser.context.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (new URL(url).origin === origin) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
  });
  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });

  it('sends a person who opens the farm\'s address to the dashboard, and its sign-in says where tokens come from', async () => {
    const { page } = browser;
    await page.goto(`${farm.url}/`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    expect(await page.locator('#token-hint').textContent()).toBe('Tokens come from whoever runs this Kiln (KILN_TOKENS, or kiln tokens create); ask them for one.');
    await page.fill('#token', 'not-a-token-of-this-kiln');
    await page.press('#token', 'Enter');
    await page.locator('[role="alert"]').waitFor();
    expect(await page.locator('[role="alert"]').textContent()).toBe('That token is not valid for this Kiln (unknown, revoked or expired).');
    await signIn(page, farm.url, TOKENS.admin);
  });

  it("updates a request's header state live as its build goes from queued to succeeded", async () => {
    const { page } = browser;
    // No worker runs yet: the build stays queued until one starts.
    const request = await post({ model: 'tiny-conv', targets: [target], options: quick });
    const buildId: string = request.builds[0].id;
    await page.goto(`${farm.url}/dashboard/requests/${request.request}`);
    const badge = page.locator('#request-state [data-field="state"]');
    expect(await badge.textContent()).toBe('queued');
    await page.evaluate('window.notReloaded = true');

    await farm.startWorker();
    await page.locator(`td[data-build-id="${buildId}"][data-state="succeeded"]`).waitFor({ timeout: 30_000 });
    await page.waitForFunction(`document.querySelector('#request-state [data-field="state"]').textContent === 'succeeded'`, undefined, { timeout: 5_000 });
    expect(await badge.getAttribute('class')).toBe('badge state-succeeded');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
  }, 60_000);

  it('names a model with two labels by both, in Builds, Requests and the Submit form', async () => {
    const { page } = browser;
    await page.goto(`${farm.url}/dashboard/builds`);
    expect(await page.locator('tr[data-build-id] td').nth(1).textContent()).toBe('tiny-conv@1, classifier@1');
    expect(await page.locator('select[name="model"] option', { hasText: 'classifier@1' }).textContent()).toBe('tiny-conv@1, classifier@1');
    await page.goto(`${farm.url}/dashboard/requests`);
    expect(await page.locator('tbody tr td').first().textContent()).toBe('tiny-conv@1, classifier@1');
    await page.goto(`${farm.url}/dashboard/submit`);
    expect(await page.locator('#model option', { hasText: 'classifier@1' }).textContent()).toMatch(/^tiny-conv@1, classifier@1 \([0-9a-f]{12}\)$/);
  });

  it('keeps what was typed in the submit form when the farm refuses it, at the same address', async () => {
    const { page } = browser;
    // The form lists the targets the farm knows, a list the API keeps for up to 10 s.
    const checkbox = page.locator(`input[name="targets"][value="${target}"]`);
    for (let tries = 0; tries < 60; tries++) {
      await page.goto(`${farm.url}/dashboard/submit`);
      if ((await checkbox.count()) > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.selectOption('#model', { label: (await page.locator('#model option', { hasText: 'needs-shapes' }).textContent())! });
    await page.uncheck(`input[name="targets"][value="${target}"]`);
    await page.fill('#more-targets', 'not-a-target');
    const options = '{"benchmark": {"maxBatch": 4}}';
    await page.fill('#options', options);
    await Promise.all([page.waitForLoadState(), page.click('#submit-form button[type="submit"]')]);

    expect(new URL(page.url()).pathname).toBe('/dashboard/submit');
    expect(await page.locator('#submit-error').textContent()).toMatch(/not-a-target/);
    expect(await page.inputValue('#more-targets')).toBe('not-a-target');
    expect(await page.inputValue('#options')).toBe(options);
    expect(await page.locator('#model option:checked').textContent()).toMatch(/^needs-shapes@1 /);
    expect(await page.isChecked(`input[name="targets"][value="${target}"]`)).toBe(false);

    // Options that are not JSON: refused the same way, the text kept to be fixed.
    await page.check(`input[name="targets"][value="${target}"]`);
    await page.fill('#more-targets', '');
    await page.fill('#options', '{"benchmark": {maxBatch: 4}}');
    await Promise.all([page.waitForLoadState(), page.click('#submit-form button[type="submit"]')]);
    expect(new URL(page.url()).pathname).toBe('/dashboard/submit');
    expect(await page.locator('#submit-error').textContent()).toMatch(/^Options must be JSON/);
    expect(await page.inputValue('#options')).toBe('{"benchmark": {maxBatch: 4}}');
    expect(await page.isChecked(`input[name="targets"][value="${target}"]`)).toBe(true);
  });

  it('offers no Retry for a build that failed on its input, and cuts its error at a word', async () => {
    const { page } = browser;
    const request = await post({ model: 'needs-shapes', targets: [target], options: quick });
    const id: string = request.builds[0].id;
    const failed = await waitForBuild(id, ['failed', 'succeeded']);
    expect(failed).toMatchObject({ state: 'failed', inputError: true });
    expect(failed.error).toMatch(/has symbolic dims .*--shapes /);

    await page.goto(`${farm.url}/dashboard/builds`);
    const row = page.locator(`tr[data-build-id="${id}"]`);
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await row.locator('[data-field="no-retry"]').textContent()).toBe('fix input, resubmit');
    const excerpt = (await row.locator('.error-line').textContent())!;
    expect(excerpt.endsWith('…')).toBe(true);
    const shown = excerpt.slice(0, -1);
    const full = failed.error.split('\n')[0];
    expect(full.startsWith(shown)).toBe(true);
    expect(full.charAt(shown.length)).toMatch(/[\s,;:(\[{-]/); // the next character ends a word
    expect(excerpt.length).toBeLessThanOrEqual(34);

    await page.goto(`${farm.url}/dashboard/builds/${id}`);
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
  });

  it("lists the opsets an optimised model's operators use, not ONNX Runtime's other domains", async () => {
    const { page } = browser;
    const [build] = (await (await farm.request('GET', `/v1/builds?state=succeeded&target=${target}`, { role: 'reader' })).json()).builds;
    await page.goto(`${farm.url}/dashboard/builds/${build.id}`);
    const opsets = (await page.locator('dt', { hasText: /^Opsets$/ }).locator('xpath=following-sibling::dd[1]').textContent())!;
    expect(opsets).toMatch(/^ai\.onnx 17/);
    for (const internal of ['ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview', 'org.pytorch.aten', 'com.microsoft.experimental']) expect(opsets).not.toContain(internal);
  });

  it('loads every page, the queue board included, from the farm alone: nothing goes to the internet', async () => {
    const { page } = browser;
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const [build] = (await (await farm.request('GET', '/v1/builds?state=succeeded', { role: 'reader' })).json()).builds;
    const [request] = (await (await farm.request('GET', '/v1/requests', { role: 'reader' })).json()).requests;
    const pages = ['/dashboard', '/dashboard/builds', `/dashboard/builds/${build.id}`, '/dashboard/requests', `/dashboard/requests/${request.id}`, '/dashboard/models', `/dashboard/models/${build.modelId}`, '/dashboard/fleet', '/dashboard/timing-caches', '/dashboard/submit'];
    for (const pathname of pages) await page.goto(`${farm.url}${pathname}`, { waitUntil: 'networkidle' });
    await page.goto(`${farm.url}/dashboard/queues`, { waitUntil: 'networkidle' });
    await page.getByText(target).first().waitFor({ timeout: 10_000 }); // the board's script ran and drew the queues

    expect(blocked).toEqual([]);
    expect(requested.length).toBeGreaterThan(pages.length);
    expect(requested.filter((url) => !url.startsWith(`${farm.url}/`))).toEqual([]);
    expect(errors.filter((e) => /Content Security Policy|ERR_BLOCKED/.test(e))).toEqual([]);
  });

  describe('over HTTP', () => {
    it('answers GET / with the documents for API clients', async () => {
      const response = await fetch(`${farm.url}/`, { headers: { accept: 'application/json' }, redirect: 'manual' });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ dashboard: '/dashboard', openapi: '/openapi.json', health: '/healthz' });
      const person = await fetch(`${farm.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(person.status).toBe(302);
      expect(person.headers.get('location')).toBe('/dashboard');
    });

    it('points a farm started by npm start at its admin-token file, and never at KILN_TOKENS', async () => {
      // What `npm start` does without KILN_TOKENS: a generated admin token in KILN_HOME, passed on.
      const home = await mkdtemp(path.join(os.tmpdir(), 'kiln-generated-token-'));
      await writeFile(path.join(home, 'admin-token'), `${TOKENS.admin}\n`);
      const started = await startFarm({ env: { KILN_HOME: home, KILN_TOKENS: `admin:${TOKENS.admin}` } });
      try {
        const signInPage = await (await fetch(`${started.url}/dashboard/sign-in`)).text();
        expect(signInPage).toContain(`<code>npm start</code> generated an admin token: it is in <code>${path.join(home, 'admin-token')}</code> on the machine that runs Kiln`);
        const wrong = await fetch(`${started.url}/dashboard/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: started.url },
          body: new URLSearchParams({ token: 'kiln_wrong' }),
        });
        expect(wrong.status).toBe(401);
        const text = await wrong.text();
        expect(text).toContain('That token is not valid for this Kiln (unknown, revoked or expired).');
        expect(text).toContain(path.join(home, 'admin-token'));
        expect(text).not.toContain('KILN_TOKENS');
      } finally {
        await started.stop();
        await rm(home, { recursive: true, force: true });
      }
    });
  });
});
