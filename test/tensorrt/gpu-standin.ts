/**
 * GPUs played by the trtexec stand-in (test/trtexec-standin, a test double, not TensorRT), for
 * toolchain and farm tests: a `trtexec` wrapper script per played GPU, the way an operator points
 * a worker at its trtexec (KILN_TRTEXEC), and the GPU facts NVML would report for it (there is no
 * GPU here, so they are injected).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerGpu } from '../../src/worker/toolchains/tensorrt/detect';
import { STANDIN } from './standin';

export interface PlayedGpu {
  /** TensorRT version the stand-in plays. */
  trt: string;
  gpu: WorkerGpu & { cc: string; uuid: string };
  /** KILN_STANDIN_MISBEHAVE faults. (Default: none) */
  misbehave?: string;
}

export const RTX_4080: PlayedGpu = {
  trt: '10.9.0',
  gpu: {
    index: 0,
    name: 'NVIDIA GeForce RTX 4080',
    sku: 'nvidia-geforce-rtx-4080',
    cc: '8.9',
    uuid: 'GPU-4080aaaa-0000-0000-0000-000000000001',
    memoryTotalBytes: 16_722_690_048,
    driverVersion: '570.86.15',
  },
};

/** An L4 with TensorRT 10.9.0: another SKU of the RTX 4080's CC (sm89). */
export const L4: PlayedGpu = {
  trt: '10.9.0',
  gpu: { index: 1, name: 'NVIDIA L4', sku: 'nvidia-l4', cc: '8.9', uuid: 'GPU-14aaaaaa-0000-0000-0000-000000000006', memoryTotalBytes: 24_152_899_584, driverVersion: '570.86.15' },
};

export const T4: PlayedGpu = {
  trt: '8.6.1',
  gpu: {
    index: 1,
    name: 'Tesla T4',
    sku: 'nvidia-tesla-t4',
    cc: '7.5',
    uuid: 'GPU-7e5a0000-0000-0000-0000-000000000002',
    memoryTotalBytes: 15_835_660_288,
    driverVersion: '535.183.01',
  },
};

/** An RTX 3070 with TensorRT 10.3.0: a GPU and version no other played worker has (its own queues). */
export const RTX_3070: PlayedGpu = {
  trt: '10.3.0',
  gpu: {
    index: 0,
    name: 'NVIDIA GeForce RTX 3070',
    sku: 'nvidia-geforce-rtx-3070',
    cc: '8.6',
    uuid: 'GPU-3070aaaa-0000-0000-0000-000000000003',
    memoryTotalBytes: 8_589_934_592,
    driverVersion: '570.86.15',
  },
};

/** An A100 with TensorRT 10.3.0, likewise on queues of its own. */
export const A100: PlayedGpu = {
  trt: '10.3.0',
  gpu: {
    index: 0,
    name: 'NVIDIA A100-SXM4-40GB',
    sku: 'nvidia-a100-sxm4-40gb',
    cc: '8.0',
    uuid: 'GPU-a100aaaa-0000-0000-0000-000000000004',
    memoryTotalBytes: 42_505_273_344,
    driverVersion: '570.86.15',
  },
};

/** Writes `<dir>/<name>/trtexec`, a script running the stand-in as `played`; returns its path. */
export async function standinTrtexec(dir: string, name: string, played: PlayedGpu, extraEnv: Record<string, string> = {}): Promise<string> {
  const env: Record<string, string> = {
    KILN_STANDIN_TRT: played.trt,
    KILN_STANDIN_CC: played.gpu.cc,
    KILN_STANDIN_DEVICE: played.gpu.name,
    KILN_STANDIN_UUID: played.gpu.uuid,
    KILN_STANDIN_MS_PER_TACTIC: '1',
    KILN_STANDIN_MISBEHAVE: played.misbehave ?? '',
    ...extraEnv,
  };
  const bin = join(dir, name);
  await mkdir(bin, { recursive: true });
  const path = join(bin, 'trtexec');
  const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
  await writeFile(path, `#!/bin/sh\n${exports} exec "${process.execPath}" "${STANDIN}" "$@"\n`);
  await chmod(path, 0o755);
  return path;
}
