/**
 * What each GPU worker of this machine would register with the fleet, without Redis: per GPU,
 * NVML's index, UUID, CC and SKU, the platform, the targets served and refused (with reasons) and
 * the timing-cache key its builds would use (src/worker/registration.ts on the capabilities that
 * detectTensorRt finds). Without trtexec nothing is served; the probe then also shows what the GPU
 * would register with each TensorRT release Kiln knows, so the keys can be checked on real
 * hardware. First it prints what `kiln fetch` without flags detects here. Bundled and run by
 * scripts/device/fleet-probe.sh:
 *   node fleet-probe.js <kiln_nvml.node>
 */
import os from 'node:os';
import path from 'node:path';
import { describeLocalClient, detectLocalClient } from '../../src/cli/local-client';
import { platformOf } from '../../src/core/platform';
import { gpuTargets } from '../../src/core/tensorrt/gpu-targets';
import { TRTEXEC_RELEASES } from '../../src/core/tensorrt/trtexec-contract';
import { listGpus, loadAddon } from '../../src/native';
import { timingCacheKey } from '../../src/storage/layout';
import { registrationOf } from '../../src/worker/registration';
import { detectTensorRt } from '../../src/worker/toolchains/tensorrt/detect';

const print = (title: string, value: unknown) => console.log(`## ${title}\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`);

async function main(): Promise<void> {
  const [addonFile] = process.argv.slice(2);
  const addon = loadAddon([path.resolve(addonFile)]);
  const platform = platformOf();
  print('platform (process.platform, process.arch)', { platform, node: `${process.platform}/${process.arch}` });
  // What `kiln fetch MODEL` with no --target/--cc/--trt finds here (src/cli/local-client.ts).
  const local = await detectLocalClient({ addon });
  print('kiln fetch: local detection', `${describeLocalClient(local)}\n${JSON.stringify(local, null, 2)}`);
  for (const gpu of await listGpus({ addon })) {
    const { capabilities, trtexec } = await detectTensorRt(gpu, { searchPath: process.env.PATH });
    const registration = registrationOf([capabilities], platform);
    print(`GPU ${gpu.index}: registration of worker ${os.hostname()}-gpu${gpu.index}`, {
      gpu: { index: gpu.index, uuid: gpu.uuid, name: gpu.name, cc: gpu.cc, sku: gpu.sku },
      platform: registration.platform,
      tensorrt: trtexec ? { version: trtexec.version, path: trtexec.path } : `none: ${capabilities.unavailableReason}`,
      served: registration.targets,
      refused: registration.refused,
      notes: registration.notes,
      timingCaches: registration.timingCaches,
    });
    if (!trtexec && gpu.cc) {
      // What the same GPU registers once a TensorRT release is installed.
      const byRelease = Object.fromEntries(
        TRTEXEC_RELEASES.map((release) => {
          // The table names release branches (`10.9`); a worker reports trtexec's full version.
          const trt = release.version.split('.').length === 2 ? `${release.version}.0` : release.version;
          const targets = gpuTargets({ trt, cc: gpu.cc!, sku: gpu.sku, platform });
          return [release.version, { served: targets.keys, refused: targets.refused, timingCache: timingCacheKey({ trt, cc: gpu.cc!, sku: gpu.sku, platform }) }];
        }),
      );
      print(`GPU ${gpu.index}: registration with each TensorRT release Kiln knows (none is installed here)`, byRelease);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
