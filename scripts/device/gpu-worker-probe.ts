/**
 * What a GPU worker (`kiln worker --gpu all`) would register on this machine, without Redis: for
 * each GPU, the TensorRT capability detection the worker runs (detectTensorRt: NVML's facts,
 * trtexec looked for on the PATH and at /usr/src/tensorrt/bin/trtexec), the registration that
 * follows from it, the heartbeat's telemetry sample, and the idle guard's reading under each
 * policy. Bundled by prepare-worker-probe.sh, run by gpu-worker-probe.sh on the device machine:
 *   node gpu-worker-probe.js <kiln_nvml.node> [busy]
 */
import os from 'node:os';
import path from 'node:path';
import { gpuTelemetry, listGpus, loadAddon } from '../../src/native';
import { gpuSample } from '../../src/state/worker-telemetry';
import { IdleGuard, type IdlePolicy } from '../../src/worker/gpu/idle-guard';
import { cudaEnvFor } from '../../src/worker/hardware/gpu';
import { targetKey } from '../../src/core/target';
import { detectTensorRt } from '../../src/worker/toolchains/tensorrt/detect';

const print = (title: string, value: unknown) => console.log(`## ${title}\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`);

async function main(): Promise<void> {
  const [addonFile, mode = 'idle'] = process.argv.slice(2);
  const addon = loadAddon([path.resolve(addonFile)]);
  const gpus = await listGpus({ addon });
  for (const gpu of gpus) {
    const telemetry = () => gpuTelemetry(gpu.index, { addon });
    if (mode === 'idle') {
      const started = performance.now();
      const { capabilities, trtexec } = await detectTensorRt(gpu, { searchPath: process.env.PATH });
      print(`GPU ${gpu.index}: detectTensorRt (${(performance.now() - started).toFixed(1)} ms)`, { trtexec, capabilities });
      // What KilnWorker.start() registers from it (src/worker/kiln-worker.ts).
      const served = capabilities.targets.length > 0;
      print(`GPU ${gpu.index}: registration of worker ${os.hostname()}-gpu${gpu.index}`, {
        targets: capabilities.targets.map(targetKey),
        toolchains: { tensorrt: served ? capabilities.version : `unavailable: ${capabilities.unavailableReason}` },
        notes: served ? [] : [`tensorrt: ${capabilities.unavailableReason}`],
        hardware: capabilities.hardware,
        trtexecEnvironment: cudaEnvFor(gpu),
        telemetry: gpuSample(await telemetry()),
      });
    }
    for (const policy of ['flag', 'wait', 'refuse'] as IdlePolicy[]) {
      const guard = new IdleGuard({ policy, waitSeconds: 3, utilizationPercent: 10, pollMs: 500, telemetry, ownPids: [process.pid] });
      const lines: string[] = [];
      const started = performance.now();
      const outcome = await guard.beforeBuild(new AbortController().signal, (l) => lines.push(l)).then(
        (report) => ({ flagged: report.flagged, waitedSeconds: Number(report.waitedSeconds.toFixed(2)), before: report.before, start: report.start, notes: report.notes }),
        (err: Error) => ({ error: `${err.name}: ${err.message}` }),
      );
      print(`GPU ${gpu.index}: idle guard, policy ${policy} (${(performance.now() - started).toFixed(0)} ms)`, { log: lines, ...outcome });
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
