/**
 * Runs Kiln's NVML binding on a real GPU and prints what it finds, for comparison with
 * nvidia-smi. Bundled by prepare-probe.sh, run by gpu-probe.sh on the device machine:
 *   node gpu-probe.js <kiln_nvml.node> [telemetry]
 */
import fs from 'node:fs';
import path from 'node:path';
import { gpuTelemetry, listGpus, loadAddon } from '../../src/native';
import { detectGpus } from '../../src/worker/hardware/gpu';
import { gpuTargets } from '../../src/core/tensorrt/gpu-targets';

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    if (dir && fs.existsSync(file)) return file;
  }
  return null;
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  console.log(`## ${label} (${(performance.now() - start).toFixed(1)} ms)`);
  console.log(JSON.stringify(result, null, 2));
  return result;
}

async function main(): Promise<void> {
  const [addonFile, mode = 'all'] = process.argv.slice(2);
  const addon = loadAddon([path.resolve(addonFile)]);
  const gpus = mode === 'all' ? await timed('listGpus() (first call: dlopen + nvmlInit)', () => listGpus({ addon })) : await listGpus({ addon });
  for (const gpu of gpus) {
    await timed(`gpuTelemetry(${gpu.index})`, () => gpuTelemetry(gpu.index, { addon }));
  }
  if (mode !== 'all') return;

  const detection = await detectGpus({ addon });
  console.log('## capability detection');
  console.log(`detectGpus(): ${detection.ok ? `${detection.gpus.length} GPU(s)` : `none: ${detection.reason}`}`);
  const trtexec = onPath('trtexec');
  for (const gpu of detection.ok ? detection.gpus : []) {
    console.log(`GPU ${gpu.index}: ${gpu.name}, sku ${gpu.sku}, CC ${gpu.cc}, ${gpu.uuid}`);
    if (!trtexec) {
      console.log('  trtexec: not found on PATH -> this GPU registers with no TensorRT target');
    }
    if (gpu.cc) {
      const keys = gpuTargets({ trt: '10.9.0', cc: gpu.cc, sku: gpu.sku }).keys;
      console.log(`  with trtexec 10.9.0 it would serve: ${keys.join(', ')}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
