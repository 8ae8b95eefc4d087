/**
 * The README's dashboard screenshots, taken from a running farm by the same browser tooling as
 * the end-to-end test. A private farm has one CPU worker and two GPU workers played by the trtexec
 * stand-in (test/trtexec-standin, a test double, not TensorRT): an RTX 4080 (CC 8.9, TensorRT
 * 10.9.0) and a T4 (CC 7.5, TensorRT 8.6.1), whose NVML readings are injected. It builds a small
 * ResNet-18 for the CPU and both GPUs in one request (fp16 on the GPUs), plus a target no worker
 * serves (left queued), tiny-conv on the CPU, and a model with a symbolic dim and no
 * options.shapes (which fails), and tiny-conv again at graphOptimizationLevel 'basic' (to compare
 * layer by layer); then headless Chromium signs in and photographs the pages, and the build page's
 * speed-up and layer-profile sections on their own.
 *
 *   node --import tsx scripts/screenshots.ts [outDir]      (Default: docs/screenshots)
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GpuTelemetry } from '../src/native/types';
import { readTelemetry } from '../src/state/worker-telemetry';
import { createStore } from '../src/storage/create-store';
import { createTensorRtToolchain } from '../src/worker/toolchains/tensorrt';
import { launchBrowser, signIn } from '../test/dashboard/browser';
import { startFarm, TOKENS, waitForBuild, type TestFarm } from '../test/helpers/farm';
import { resnet18, symbolicDimsModel, tinyConv } from '../test/models';
import { RTX_4080, standinTrtexec, T4, type PlayedGpu } from '../test/tensorrt/gpu-standin';

const OUT = path.resolve(process.argv[2] ?? 'docs/screenshots');
/** Heartbeat samples on the fleet charts before they are photographed (500 ms apart in the test farm). */
const TELEMETRY_SAMPLES = 40;
/** A target no worker here serves: its build stays queued. */
const UNSERVED = 'trt10.9.0-sm86';

/** GPUs (by uuid) with a build of this script under way, so their played NVML readings look busy. */
const busyGpus = new Set<string>();

/** What NVML would report for a played GPU: busy while this script has a build on it, idle otherwise. */
function playedTelemetry(played: PlayedGpu): () => Promise<GpuTelemetry> {
  return async () => {
    const busy = busyGpus.has(played.gpu.uuid);
    return {
      index: played.gpu.index,
      utilizationGpu: busy ? 87 : 2,
      utilizationMemory: busy ? 41 : 0,
      memoryUsedBytes: (busy ? 2300 : 420) * 2 ** 20,
      memoryTotalBytes: played.gpu.memoryTotalBytes,
      processes: [],
      temperatureC: busy ? 61 : 38,
      smClockMHz: busy ? 2505 : 210,
      memClockMHz: busy ? 11201 : 405,
      powerWatts: busy ? 182 : 14,
      at: new Date().toISOString(),
    };
  };
}

async function upload(farm: TestFarm, name: string, bytes: Buffer): Promise<void> {
  const response = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (response.status !== 201) throw new Error(`Expected 201 for the upload of ${name} but received ${response.status}: ${await response.text()}`);
}

async function submit(farm: TestFarm, model: string, targets: string[], options: unknown = {}): Promise<{ request: string; builds: { id: string; target: string }[] }> {
  const response = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model, targets, options } });
  if (response.status !== 202) throw new Error(`Expected 202 for the submit of ${model} but received ${response.status}: ${await response.text()}`);
  return response.json();
}

async function settle(farm: TestFarm, id: string): Promise<void> {
  const build = await waitForBuild(farm, id, 120_000);
  console.log(`build ${id.slice(0, 12)} ${build.targetKey}: ${build.state}${build.error ? ` (${build.error.split('\n')[0]})` : ''}`);
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const bin = await mkdtemp(path.join(os.tmpdir(), 'kiln-screenshots-'));
  // One attempt: the failing build fails at once instead of backing off first.
  const farm = await startFarm({ env: { KILN_ATTEMPTS: '1' } });
  const browser = await launchBrowser({ width: 1360, height: 860 });
  try {
    const gpuWorker = async (played: PlayedGpu, name: string) => {
      const toolchain = createTensorRtToolchain({
        store: createStore(farm.config.store),
        gpu: played.gpu,
        trtexec: await standinTrtexec(bin, name, played),
        device: 0,
        killGraceMs: 500,
        telemetry: playedTelemetry(played),
      });
      return farm.startWorker({ toolchains: [toolchain] }, { KILN_WORKER_ID: name });
    };
    const cpu = await farm.startWorker({}, { KILN_WORKER_ID: 'cpu-worker-1' });
    await gpuWorker(RTX_4080, 'gpu-rtx4080');
    await gpuWorker(T4, 'gpu-t4');
    const local = cpu.targets[0];
    await upload(farm, 'tiny-conv', tinyConv());
    await upload(farm, 'resnet18-small', resnet18({ width: 16, imageSize: 96, classes: 100 }));
    await upload(farm, 'seq-proj', symbolicDimsModel());

    const tiny = await submit(farm, 'tiny-conv', [local], { benchmark: { maxBatch: 16, warmup: 2, iterations: 20 } });
    // The same model optimised less: a second build to compare layer by layer.
    const tinyBasic = await submit(farm, 'tiny-conv', [local], { onnxruntime: { graphOptimizationLevel: 'basic' }, benchmark: { maxBatch: 16, warmup: 2, iterations: 20 } });
    // One request fanned out over a matrix: CPU and two GPU rows build; the unserved target waits.
    for (const played of [RTX_4080, T4]) busyGpus.add(played.gpu.uuid);
    const resnet = await submit(farm, 'resnet18-small', [local, 'trt10.9.0-sm89', 'trt8.6.1-sm75', UNSERVED], {
      tensorrt: { precision: ['fp16'] },
      benchmark: { maxBatch: 8, warmup: 2, iterations: 10 },
    });
    const idOf = (target: string) => resnet.builds.find((b) => b.target === target)!.id;
    // 'seq' has only a name and options.shapes is not given: the build fails and says so.
    const broken = await submit(farm, 'seq-proj', [local]);

    await Promise.all(
      [RTX_4080, T4].map(async (played) => {
        await settle(farm, idOf(played === RTX_4080 ? 'trt10.9.0-sm89' : 'trt8.6.1-sm75'));
        busyGpus.delete(played.gpu.uuid);
      }),
    );
    for (const id of [tiny.builds[0].id, tinyBasic.builds[0].id, idOf(local), broken.builds[0].id]) await settle(farm, id);

    // The fleet charts need some history: wait for the heartbeats to fill them.
    for (const worker of farm.workers) {
      for (;;) {
        const samples = await readTelemetry(farm.api.ctx.redis, farm.api.ctx.keys, worker.id);
        if (samples.length >= TELEMETRY_SAMPLES) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
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
    await shoot(`/dashboard/builds/${idOf('trt10.9.0-sm89')}`, 'build-detail.png');
    await shoot('/dashboard/fleet', 'fleet.png');
    await shoot('/dashboard/builds', 'builds.png');
    await shoot(`/dashboard/requests/${resnet.request}`, 'request-matrix.png');
    // The build page's speed-up plot and top layers (CPU ResNet-18), and the layer compare view.
    const shootSection = async (urlPath: string, heading: string, file: string) => {
      await page.goto(`${farm.url}${urlPath}`);
      await page.waitForFunction('typeof Chart === "function"');
      await page.locator(`section[aria-labelledby="${heading}"]`).screenshot({ path: path.join(OUT, file) });
      console.log(`wrote ${path.join(OUT, file)}`);
    };
    await shootSection(`/dashboard/builds/${idOf(local)}`, 'speedup-h', 'build-speedup.png');
    await shootSection(`/dashboard/builds/${idOf(local)}`, 'layers-h', 'build-layers.png');
    await shoot(`/dashboard/builds/${tinyBasic.builds[0].id}/compare/${tiny.builds[0].id}`, 'compare-layers.png');
  } finally {
    await browser.close();
    await farm.stop();
    await rm(bin, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
