/**
 * The build page in headless Chromium shows every TensorRT optimization profile (its shapes,
 * validation verdict and isclose figures, latency and throughput per batch), and the request
 * matrix names each row's platform. A private farm with a GPU worker played by the trtexec stand-in
 * (a test double, not TensorRT) builds an engine with two profiles of different batch ranges.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/storage/create-store';
import { createTensorRtToolchain } from '../../src/worker/toolchains/tensorrt';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv } from '../models';
import { RTX_4080, standinTrtexec } from '../tensorrt/gpu-standin';
import { launchBrowser, signIn, type Browser } from './browser';

const range = (min: number, opt: number, max: number) => ({ x: { min: [min, 3, 16, 16], opt: [opt, 3, 16, 16], max: [max, 3, 16, 16] } });
/** A target no worker here serves: its cell stays queued, on another platform than the 4080's. */
const AARCH64 = 'trt10.9.0-linux-aarch64-sm90';

describe('build page: optimization profiles; request matrix: platforms', () => {
  let farm: TestFarm;
  let browser: Browser;
  let dir: string;
  let requestId: string;
  let buildId: string;
  let report: any; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-dash-profiles-'));
    const toolchain = createTensorRtToolchain({ store: createStore(farm.config.store), gpu: RTX_4080.gpu, trtexec: await standinTrtexec(dir, 'rtx4080', RTX_4080), device: 0, killGraceMs: 500 });
    await farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: 'rtx4080' });
    const upload = await farm.request('POST', '/v1/models?name=conv', { role: 'builder', body: tinyConv(), headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const options = { benchmark: { maxBatch: 8, warmup: 0, iterations: 5 }, tensorrt: { profiles: [range(1, 1, 2), range(4, 4, 8)] } };
    const submitted = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'conv', targets: ['trt10.9.0-sm89', AARCH64], options } });
    expect(submitted.status).toBe(202);
    const body = await submitted.json();
    requestId = body.request;
    buildId = body.builds.find((b: { target: string }) => b.target === 'trt10.9.0-sm89').id;
    const build = await waitForBuild(farm, buildId);
    expect(build.state).toBe('succeeded');
    report = build.report;
    browser = await launchBrowser();
    await signIn(browser.page, farm.url, TOKENS.reader, '/dashboard/builds');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows each profile with its shapes, validation and isclose figures, and its own latency and throughput per batch', async () => {
    const { page } = browser;
    await page.goto(`${farm.url}/dashboard/builds/${buildId}`);
    const table = page.locator('#profiles-table');
    await table.waitFor();
    // Two profiles, two batch sizes each: profile 1's batches (4, 8) are not profile 0's (1, 2).
    const rows = table.locator('tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-profile'), tr.getAttribute('data-batch')]))).toEqual([
      ['0', '1'],
      ['0', '2'],
      ['1', '4'],
      ['1', '8'],
    ]);
    const one = table.locator('tbody[data-profile="1"]');
    const text = (await one.textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain('x: 4×3×16×16 → 4×3×16×16 → 8×3×16×16');
    expect(await one.locator('[data-field="validated-at"]').textContent()).toBe('x: 4×3×16×16');
    expect(await one.locator('[data-field="validation"] .badge').first().textContent()).toBe('pass');
    expect(text).toMatch(/logits: 0 of [\d,]+ outside \(0\.000%\), max abs \S+, max rel \S+/);
    // Profile 1's latency and throughput cells are its report rows, as measured with --useProfile=1.
    const measured = report.benchmark.profiles[1].rows.find((r: { batch: number }) => r.batch === 8);
    const cells = await one.locator('tr[data-batch="8"] td.num').allTextContents();
    expect(cells[0]).toBe('8');
    expect(Number(cells[1])).toBeCloseTo(measured.latencyMs.median, 3);
    expect(Number(cells[2])).toBeCloseTo(measured.latencyMs.p99, 3);
    expect(Number(cells[4].replace(/,/g, ''))).toBeCloseTo(measured.throughputSps, -1);
    expect(await table.locator('tbody[data-profile="0"]').textContent()).toContain('1×3×16×16 → 1×3×16×16 → 2×3×16×16');
  });

  it('names the platform of every matrix row, linux-x86_64 included', async () => {
    const { page } = browser;
    await page.goto(`${farm.url}/dashboard/requests/${requestId}`);
    const heads = await page.locator('table.matrix tbody th[scope="row"]').allTextContents();
    expect(heads.map((h) => h.replace(/no live worker.*$/, '').trim())).toEqual(['TensorRT 10.9.0 · linux-aarch64 · CC 9.0', 'TensorRT 10.9.0 · linux-x86_64 · CC 8.9']);
    expect(await page.locator(`table.matrix td[data-build-id="${buildId}"]`).getAttribute('data-state')).toBe('succeeded');
  });
});
