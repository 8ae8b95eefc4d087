/**
 * A sweep's overhead: the wall time of one sweep request of N points against the same N points
 * submitted as N single build requests, one after another (each waited for, as a script without
 * sweeps would). A private in-process farm (real API, Redis, one CPU worker, real ONNX Runtime)
 * builds a generated ResNet-18 (a quarter of its width, 64x64 images); the singles and the sweep use
 * two models of equal size and different weights, so neither reuses the other's builds.
 */
import { startFarm, waitForBuild, type TestFarm } from '../../test/helpers/farm';
import { resnet18 } from '../../test/models';

export interface SweepSettings {
  sweep: Record<string, unknown[]>;
  benchmark: { iterations: number; warmup: number; maxBatch: number };
}

export interface SweepMeasurement {
  points: number;
  /** Builds the sweep ran (runtime settings share one). */
  sweepBuilds: number;
  sweepSeconds: number;
  singlesSeconds: number;
  best: unknown;
}

async function upload(farm: TestFarm, name: string, seed: number): Promise<void> {
  const res = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: resnet18({ width: 16, imageSize: 64, classes: 100, seed }), headers: { 'content-type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`Expected 201 for the upload of ${name} but received ${res.status}: ${await res.text()}`);
}

async function submit(farm: TestFarm, body: unknown): Promise<{ request: string; builds: { buildKey: string }[] }> {
  const res = await farm.request('POST', '/v1/builds', { role: 'builder', body });
  if (res.status !== 202) throw new Error(`Expected 202 for a submit but received ${res.status}: ${await res.text()}`);
  return res.json();
}

async function settle(farm: TestFarm, buildKeys: string[]): Promise<void> {
  for (const key of buildKeys) {
    const build = await waitForBuild(farm, key, 10 * 60_000);
    if (build.state !== 'succeeded') throw new Error(`Expected build ${key} to succeed but it is ${build.state}: ${build.error}`);
  }
}

/** Every combination of the sweep as a plain options object. */
function pointOptions(sweep: Record<string, unknown[]>, base: object): object[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [path, values] of Object.entries(sweep)) points = points.flatMap((p) => values.map((v) => ({ ...p, [path]: v })));
  return points.map((p) => {
    const options: Record<string, any> = structuredClone(base);
    for (const [path, value] of Object.entries(p)) {
      const parts = path.split('.');
      let node = options;
      for (const part of parts.slice(0, -1)) node = node[part] ??= {};
      node[parts[parts.length - 1]] = value;
    }
    return options;
  });
}

export async function measureSweep(settings: SweepSettings, log: (line: string) => void): Promise<SweepMeasurement> {
  const farm = await startFarm({ env: { KILN_LOG_LEVEL: 'error' } });
  try {
    const target = (await farm.startWorker()).targets[0];
    await upload(farm, 'singles', 1);
    await upload(farm, 'swept', 2);
    const base = { benchmark: settings.benchmark };
    const points = pointOptions(settings.sweep, base);

    log(`${points.length} single builds of ResNet-18, one after another`);
    let started = performance.now();
    for (const options of points) {
      const { builds } = await submit(farm, { model: 'singles', targets: [target], options });
      await settle(farm, builds.map((b) => b.buildKey));
    }
    const singlesSeconds = (performance.now() - started) / 1000;

    log(`one sweep of the same ${points.length} points`);
    started = performance.now();
    const sweep = await submit(farm, { model: 'swept', targets: [target], options: base, sweep: settings.sweep });
    await settle(farm, sweep.builds.map((b) => b.buildKey));
    const sweepSeconds = (performance.now() - started) / 1000;
    const request = await (await farm.request('GET', `/v1/requests/${sweep.request}`, { role: 'reader' })).json();
    return { points: points.length, sweepBuilds: sweep.builds.length, sweepSeconds, singlesSeconds, best: request.sweep.targets[0].best?.values };
  } finally {
    await farm.stop();
  }
}
