/**
 * The README's dashboard screenshots, taken from a running farm by the same browser tooling as
 * the end-to-end test: a private farm with a CPU worker builds a few real models (tiny-conv, a
 * small ResNet-18, and a request fanned out to targets no worker here serves, one of which is
 * cancelled), then headless Chromium signs in and photographs the pages.
 *
 *   node --import tsx scripts/screenshots.ts [outDir]      (Default: docs/screenshots)
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readTelemetry } from '../src/state/worker-telemetry';
import { launchBrowser, signIn } from '../test/dashboard/browser';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../test/helpers/farm';
import { resnet18, tinyConv } from '../test/models';

const OUT = path.resolve(process.argv[2] ?? 'docs/screenshots');
/** Heartbeat samples on the fleet chart before it is photographed (500 ms apart in the test farm). */
const TELEMETRY_SAMPLES = 40;

async function upload(farm: TestFarm, name: string, bytes: Buffer): Promise<void> {
  const response = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (response.status !== 201) throw new Error(`Expected 201 for the upload of ${name} but received ${response.status}: ${await response.text()}`);
}

async function submit(farm: TestFarm, model: string, targets: string[], options: unknown = {}): Promise<{ request: string; builds: { id: string; target: string }[] }> {
  const response = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets, options } });
  if (response.status !== 202) throw new Error(`Expected 202 for the submit of ${model} but received ${response.status}: ${await response.text()}`);
  return response.json();
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const farm = await startFarm();
  const browser = await launchBrowser({ width: 1360, height: 860 });
  try {
    // Two CPU workers on this machine share its target's queue.
    const worker = await farm.startWorker({}, { KILN_WORKER_ID: 'cpu-worker-1' });
    await farm.startWorker({}, { KILN_WORKER_ID: 'cpu-worker-2' });
    const local = worker.targets[0];
    await upload(farm, 'tiny-conv', tinyConv());
    await upload(farm, 'resnet18-small', resnet18({ width: 16, imageSize: 96, classes: 100 }));

    const bench = { benchmark: { maxBatch: 16, warmup: 2, iterations: 20 } };
    const tiny = await submit(farm, 'tiny-conv', [local], bench);
    // One request fanned out over a matrix: the local CPU target builds, the GPU ones wait for workers.
    const resnet = await submit(farm, 'resnet18-small', [local, 'ort1.30.0-aarch64-neon', 'trt10.9.0-sm89', 'trt10.9.0-sm89-nvidia-geforce-rtx-4090', 'trt10.9.0-sm86', 'trt10.9.0-sm86-ampere+'], {
      benchmark: { maxBatch: 8, warmup: 2, iterations: 10 },
    });
    const resnetLocal = resnet.builds.find((b) => b.target === local)!.id;
    const cancel = await farm.request('DELETE', `/v1/builds/${resnet.builds.find((b) => b.target === 'trt10.9.0-sm86')!.id}`, { role: 'builder' });
    if (cancel.status !== 200) throw new Error(`Expected 200 for the cancel but received ${cancel.status}: ${await cancel.text()}`);
    for (const id of [tiny.builds[0].id, resnetLocal]) {
      const build = await waitForBuild(farm, id, 120_000);
      console.log(`build ${id.slice(0, 12)} ${build.targetKey}: ${build.state}${build.error ? ` (${build.error.split('\n')[0]})` : ''}`);
    }
    // A second, smaller batch ladder of tiny-conv, so the overview shows more than one success.
    const again = await submit(farm, 'tiny-conv', [local], { benchmark: { maxBatch: 4, warmup: 1, iterations: 10 } });
    await waitForBuild(farm, again.builds[0].id);

    // The fleet chart needs some history: wait for the worker's heartbeats to fill it.
    for (;;) {
      const samples = await readTelemetry(farm.api.ctx.redis, farm.api.ctx.keys, worker.id);
      if (samples.length >= TELEMETRY_SAMPLES) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const { page } = browser;
    await signIn(page, farm.url, TOKENS.admin);
    const shoot = async (urlPath: string, file: string, fullPage = true) => {
      await page.goto(`${farm.url}${urlPath}`);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForFunction('document.querySelectorAll("canvas[data-chart]").length === 0 || typeof Chart === "function"');
      await page.evaluate('document.activeElement && document.activeElement.blur()');
      await page.screenshot({ path: path.join(OUT, file), fullPage });
      console.log(`wrote ${path.join(OUT, file)}`);
    };
    await shoot('/dashboard', 'overview.png');
    await shoot(`/dashboard/builds/${resnetLocal}`, 'build-detail.png');
    await shoot('/dashboard/fleet', 'fleet.png');
    await shoot('/dashboard/builds', 'builds.png');
    await shoot(`/dashboard/requests/${resnet.request}`, 'request-matrix.png');
  } finally {
    await browser.close();
    await farm.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
