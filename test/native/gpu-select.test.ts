/** `--gpu` selection and pinning a child process to one GPU. */
import type { GpuInfo } from '../../src/native';
import { cudaEnvFor, GpuSelectionError, selectGpus } from '../../src/worker/hardware/gpu';

function gpu(index: number, uuid: string | null): GpuInfo {
  return {
    index,
    name: 'NVIDIA H100 80GB HBM3',
    sku: 'nvidia-h100-80gb-hbm3',
    cc: '9.0',
    memoryTotalBytes: 81559 * 1024 * 1024,
    uuid,
    pciDeviceId: '0x233010DE',
    pciBusId: `00000000:${19 + index}:00.0`,
    driverVersion: '580.159.04',
    cudaDriverVersion: '13.0',
  };
}

const gpus = [gpu(0, 'GPU-aaaa'), gpu(1, 'GPU-bbbb'), gpu(2, null)];

test('all, indices and UUIDs, in the order given and without repeats', () => {
  expect(selectGpus(gpus, 'all')).toEqual(gpus);
  expect(selectGpus(gpus, '0,1')).toEqual([gpus[0], gpus[1]]);
  expect(selectGpus(gpus, ' 2, 0 ,0')).toEqual([gpus[2], gpus[0]]);
  expect(selectGpus(gpus, 'GPU-bbbb,0')).toEqual([gpus[1], gpus[0]]);
});

test.each([
  ['', 'Expected "all" or GPU indices or UUIDs separated by commas (e.g. 0,1) for --gpu but received ""'],
  ['0,,1', 'Expected "all" or GPU indices or UUIDs separated by commas (e.g. 0,1) for --gpu but received "0,,1"'],
  ['3', 'Expected one of the GPUs NVML sees (0, 1, 2) for --gpu but received "3"'],
  ['GPU-cccc', 'Expected one of the GPUs NVML sees (0, 1, 2) for --gpu but received "GPU-cccc"'],
])('--gpu %p is refused', (selection, message) => {
  expect(() => selectGpus(gpus, selection)).toThrow(new GpuSelectionError(message));
});

test('a machine without GPUs says so', () => {
  expect(() => selectGpus([], '0')).toThrow('Expected one of the GPUs NVML sees (none) for --gpu but received "0"');
});

test('a child is pinned by UUID, or by PCI-ordered index when there is none', () => {
  expect(cudaEnvFor(gpus[1])).toEqual({ CUDA_VISIBLE_DEVICES: 'GPU-bbbb', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
  expect(cudaEnvFor(gpus[2])).toEqual({ CUDA_VISIBLE_DEVICES: '2', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
});
