/**
 * The dashboard end to end, in headless Chromium against a private farm with a real CPU worker:
 * sign in, watch a build submitted through the API appear and succeed without a reload, read its
 * report (validation table, throughput plot), cancel a queued build, and check that a reader can
 * look but not act. Plus the HTTP-level guarantees: sessions, CSRF, origin, roles.
 */
import { tinyConv } from '../models';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';
import { launchBrowser, signIn, type Browser } from './browser';

// Browser-side code is passed as text: the test's TypeScript has no DOM types.
/** True once the throughput canvas has over 500 painted pixels (an empty canvas is all transparent). */
const PAINTED_PIXELS_OVER_500 = `(() => {
  const canvas = document.querySelector('#chart-throughput');
  if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted > 500;
})()`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (response: Response): Promise<any> => response.json();

/** A target no worker here serves (the test machine is x86_64): its builds stay queued. */
const UNSERVED = 'ort1.30.0-aarch64-neon';

describe('dashboard', () => {
  let farm: TestFarm;
  let browser: Browser;
  let target: string;

  const submit = async (targets: string[], iterations: number): Promise<string> => {
    const response = await farm.request('POST', '/v1/builds', {
      role: 'builder',
      body: { model: 'tiny-conv', targets, options: { benchmark: { maxBatch: 4, warmup: 1, iterations } } },
    });
    expect(response.status).toBe(202);
    return (await response.json()).builds[0].id;
  };

  beforeAll(async () => {
    farm = await startFarm();
    target = (await farm.startWorker()).targets[0];
    const upload = await farm.request('POST', '/v1/models?name=tiny-conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });

  describe('in the browser', () => {
    let buildId: string;

    it('signs in with a token and keeps only a session cookie', async () => {
      const { page, context } = browser;
      await page.goto(`${farm.url}/dashboard/builds`);
      expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
      await signIn(page, farm.url, TOKENS.builder, '/dashboard/builds');
      expect(page.url()).not.toContain(TOKENS.builder);
      const cookies = await context.cookies();
      expect(cookies).toEqual([expect.objectContaining({ name: 'kiln_session', path: '/dashboard', httpOnly: true, sameSite: 'Strict' })]);
      expect(cookies[0].value).not.toContain(TOKENS.builder);
      expect(await page.locator('h1').textContent()).toBe('Builds');
    });

    it('shows a build submitted through the API appear and succeed without a reload', async () => {
      const { page } = browser;
      await page.evaluate('window.notReloaded = true');
      buildId = await submit([target], 3);
      const row = page.locator(`tr[data-build-id="${buildId}"]`);
      await row.waitFor({ timeout: 20_000 });
      await page.locator(`tr[data-build-id="${buildId}"][data-state="succeeded"]`).waitFor({ timeout: 30_000 });
      expect(await row.locator('[data-field="state"]').textContent()).toBe('succeeded');
      expect(await page.evaluate('window.notReloaded')).toBe(true);
    }, 60_000);

    it('opens the build with its validation table filled and its throughput plot drawn', async () => {
      const { page } = browser;
      await page.click(`tr[data-build-id="${buildId}"] a[href="/dashboard/builds/${buildId}"]`);
      await page.waitForURL(`**/dashboard/builds/${buildId}`);
      const rows = page.locator('#validation-table tbody tr');
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toMatch(/logits[\s\S]*pass/);
      expect(await page.locator('#artifacts-table').textContent()).toContain('model.optimized.onnx');
      await page.waitForFunction(PAINTED_PIXELS_OVER_500, undefined, { timeout: 10_000 });
      expect(await page.locator('#log').textContent()).toContain('== benchmarking');
    });

    it('downloads an artifact with the session cookie, verified by its sha256', async () => {
      const { page } = browser;
      const link = page.locator('#artifacts-table a', { hasText: 'model.optimized.onnx' });
      const response = await page.request.get(await link.getAttribute('href').then((h) => `${farm.url}${h}`));
      expect(response.status()).toBe(200);
      const expected = (await (await farm.request('GET', `/v1/builds/${buildId}`, { role: 'reader' })).json()).artifacts.find((a: { name: string }) => a.name === 'model.optimized.onnx');
      expect(response.headers()['x-kiln-sha256']).toBe(expected.sha256);
      expect((await response.body()).length).toBe(expected.size);
    });

    it('cancels a queued build from the builds page', async () => {
      const { page } = browser;
      const queued = await submit([UNSERVED], 4);
      await page.goto(`${farm.url}/dashboard/builds?target=${UNSERVED}`);
      const row = page.locator(`tr[data-build-id="${queued}"]`);
      expect(await row.getAttribute('data-state')).toBe('queued');
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: 'Cancel' }).click();
      await page.locator(`tr[data-build-id="${queued}"][data-state="cancelled"]`).waitFor({ timeout: 10_000 });
      const record = await (await farm.request('GET', `/v1/builds/${queued}`, { role: 'reader' })).json();
      expect(record.state).toBe('cancelled');
      expect((await farm.api.ctx.queues.depth(UNSERVED)).waiting).toBe(0);
    });

    it('submits a request from the form and shows its matrix', async () => {
      const { page } = browser;
      await page.goto(`${farm.url}/dashboard/submit`);
      await page.selectOption('#model', 'tiny-conv@1');
      await page.uncheck(`input[name="targets"][value="${target}"]`);
      await page.fill('#more-targets', `${UNSERVED}, trt10.9.0-sm89`);
      await page.fill('#options', '{"benchmark": {"iterations": 9}}');
      await Promise.all([page.waitForURL('**/dashboard/requests/*'), page.click('#submit-form button[type="submit"]')]);
      const cells = page.locator('table.matrix td.cell');
      expect(await cells.count()).toBe(2);
      // Every row names its platform: the default linux-x86_64 too, which target keys leave out.
      expect(await page.locator('table.matrix').textContent()).toMatch(/TensorRT 10\.9\.0 · linux-x86_64 · CC 8\.9[\s\S]*queued/);
      expect(await page.locator('table.matrix').textContent()).toContain('ONNX Runtime 1.30.0 · linux-aarch64 · neon');
      const request = await (await farm.request('GET', `/v1/requests/${page.url().split('/').pop()}`, { role: 'reader' })).json();
      expect(request.targets.sort()).toEqual([UNSERVED, 'trt10.9.0-sm89']);
      expect(request.options.benchmark.iterations).toBe(9);
    });

    it('lets a reader look but not cancel: no button, and 403 from the action', async () => {
      const { page, context } = browser;
      const queued = await submit([UNSERVED], 5);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL('**/dashboard/sign-in');
      expect(await context.cookies()).toEqual([]);
      await signIn(page, farm.url, TOKENS.reader, '/dashboard/builds');
      const row = page.locator(`tr[data-build-id="${queued}"]`);
      expect(await row.getAttribute('data-state')).toBe('queued');
      expect(await page.locator('form[action$="/cancel"]').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Submit' }).count()).toBe(0);
      // From the page itself, with the reader's own session and CSRF token: only the role is missing.
      const status = await page.evaluate(`fetch('/dashboard/api/builds/${queued}/cancel', {
        method: 'POST',
        headers: { 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content, Accept: 'application/json' },
      }).then((r) => r.status)`);
      expect(status).toBe(403);
      expect((await (await farm.request('GET', `/v1/builds/${queued}`, { role: 'reader' })).json()).state).toBe('queued');
    });
  });

  describe('over HTTP', () => {
    const signInCookie = async (token: string): Promise<string> => {
      const response = await fetch(`${farm.url}/dashboard/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: farm.url },
        body: new URLSearchParams({ token, next: '/dashboard/builds' }),
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/dashboard/builds');
      return response.headers.get('set-cookie')!.split(';')[0];
    };
    const csrfOf = async (cookie: string) => {
      const html = await (await fetch(`${farm.url}/dashboard`, { headers: { cookie } })).text();
      return /<meta name="csrf-token" content="([^"]+)">/.exec(html)![1];
    };

    it('rejects a wrong token and a sign-in from another origin', async () => {
      const wrong = await fetch(`${farm.url}/dashboard/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: farm.url },
        body: new URLSearchParams({ token: `${TOKENS.admin}x` }),
        redirect: 'manual',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const foreign = await fetch(`${farm.url}/dashboard/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
        body: new URLSearchParams({ token: TOKENS.admin }),
        redirect: 'manual',
      });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('set-cookie')).toBeNull();
    });

    it('refuses actions without the CSRF token or from another origin', async () => {
      const cookie = await signInCookie(TOKENS.builder);
      const csrf = await csrfOf(cookie);
      const queued = await submit([UNSERVED], 6);
      const cancel = (headers: Record<string, string>) =>
        fetch(`${farm.url}/dashboard/api/builds/${queued}/cancel`, { method: 'POST', headers: { cookie, accept: 'application/json', ...headers } });
      const noToken = await cancel({ origin: farm.url });
      expect(noToken.status).toBe(403);
      expect((await json(noToken)).error.code).toBe('csrf');
      const foreign = await cancel({ origin: 'http://evil.example', 'x-csrf-token': csrf });
      expect(foreign.status).toBe(403);
      expect((await json(foreign)).error.code).toBe('cross_origin');
      expect((await (await farm.request('GET', `/v1/builds/${queued}`, { role: 'reader' })).json()).state).toBe('queued');
      const ok = await cancel({ origin: farm.url, 'x-csrf-token': csrf });
      expect(ok.status).toBe(200);
      expect(await json(ok)).toEqual({ buildKey: queued, id: queued, state: 'cancelled' });
    });

    it('keeps queue administration for admins', async () => {
      const builder = await fetch(`${farm.url}/dashboard/queues`, { headers: { cookie: await signInCookie(TOKENS.builder) } });
      expect(builder.status).toBe(403);
      const admin = await fetch(`${farm.url}/dashboard/queues/api/queues`, { headers: { cookie: await signInCookie(TOKENS.admin), accept: 'application/json' } });
      expect(admin.status).toBe(200);
      const names = (await json(admin)).queues.map((q: { name: string }) => q.name);
      expect(names).toEqual(expect.arrayContaining([target, UNSERVED]));
    });

    it('answers JSON 401 to scripts and sends people to the sign-in form', async () => {
      const api = await fetch(`${farm.url}/dashboard/api/events`, { headers: { accept: 'text/event-stream' } });
      expect(api.status).toBe(401);
      const pageResponse = await fetch(`${farm.url}/dashboard/fleet`, { redirect: 'manual' });
      expect(pageResponse.status).toBe(303);
      expect(pageResponse.headers.get('location')).toBe('/dashboard/sign-in?next=%2Fdashboard%2Ffleet');
    });
  });
});
