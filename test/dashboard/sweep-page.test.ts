/**
 * The sweep view in real Chromium: a ResNet-18 sweep on the CPU worker, then the request page's
 * table (one row per point, the best one marked) and its latency-vs-accuracy scatter (drawn by
 * Chart.js, the best point as its own dataset). The page is photographed; with
 * KILN_UPDATE_SCREENSHOTS=1 the photo replaces docs/screenshots/sweep.png (the README's).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { resnet18 } from '../models';
import { launchBrowser, signIn, type Browser } from './browser';

const DOCS_SHOT = path.join(__dirname, '..', '..', 'docs', 'screenshots', 'sweep.png');

describe('dashboard sweep view', () => {
  let farm: TestFarm;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    farm = await startFarm();
    await farm.startWorker();
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-sweep-page-'));
    const res = await farm.request('POST', '/v1/models?name=resnet18-small', { role: 'builder', body: resnet18({ width: 16, imageSize: 64, classes: 100 }), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
    browser = await launchBrowser({ width: 1360, height: 860 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows every point, marks the best one in the table and on the scatter', async () => {
    const target = farm.workers[0].targets[0];
    const response = await farm.request('POST', '/v1/builds', {
      role: 'builder',
      body: {
        model: 'resnet18-small',
        targets: [target],
        options: { benchmark: { iterations: 5, warmup: 1, maxBatch: 1 } },
        sweep: { 'onnxruntime.graphOptimizationLevel': ['basic', 'extended', 'all'], 'onnxruntime.intraOpNumThreads': [1, 2] },
      },
    });
    const submitted = await response.json();
    for (const b of submitted.builds) expect((await waitForBuild(farm, b.buildKey, 180_000)).state).toBe('succeeded');
    const best = (await (await farm.request('GET', `/v1/requests/${submitted.request}`, { role: 'reader' })).json()).sweep.targets[0].best;

    const { page } = browser;
    await signIn(page, farm.url, TOKENS.reader, `/dashboard/requests/${submitted.request}`);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.reload();
    // Polled through page.evaluate (a DevTools call, which the dashboard's CSP allows; waitForFunction's eval it forbids).
    const DATASETS = 'window.Chart && Chart.getChart(document.querySelector("canvas[data-chart]"))?.data.datasets.map((d) => ({ label: d.label, points: d.data.length }))';
    let datasets: unknown;
    for (let i = 0; i < 100 && !(datasets = await page.evaluate(DATASETS)); i++) await page.waitForTimeout(100);
    expect(errors).toEqual([]);
    expect(await page.locator('table.sweep tbody tr').count()).toBe(6);
    const bestRow = page.locator('table.sweep tr.sweep-best-row');
    expect(await bestRow.count()).toBe(1);
    expect(await bestRow.locator('td').nth(0).textContent()).toBe(best.values['onnxruntime.graphOptimizationLevel']);
    expect(await bestRow.locator('td').nth(1).textContent()).toBe(String(best.values['onnxruntime.intraOpNumThreads']));
    expect(await page.locator('.sweep-best').textContent()).toMatch(/^Best point: graphOptimizationLevel=\w+ intraOpNumThreads=\d, [\d.]+ ms p50 at batch 1, [\d.]+% ahead of /);
    expect(datasets).toEqual([{ label: 'points', points: 5 }, { label: 'best point', points: 1 }]);

    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const shot = process.env.KILN_UPDATE_SCREENSHOTS === '1' ? DOCS_SHOT : path.join(dir, 'sweep.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
  }, 300_000);
});
