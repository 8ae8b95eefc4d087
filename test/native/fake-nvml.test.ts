/**
 * The addon against fake NVML libraries with canned answers (an H200 and an H100 on driver
 * 580.159.04): every field, the old-driver fallbacks, and each kind of failure.
 */
import fs from 'node:fs';
import { gpuTelemetry, listGpus, NvmlError, NvmlUnavailableError, type GpuInfo } from '../../src/native';
import { detectGpus } from '../../src/worker/hardware/gpu';
import { buildFakeNvml, findCompiler, rejection, type FakeVariant } from './fake-nvml';

const MiB = 1024 * 1024;
const cc = findCompiler();
const describeWithCompiler = cc ? describe : describe.skip;
if (!cc) console.warn('test/native/fake-nvml.test.ts skipped: no C compiler (cc, gcc or clang) to build the fake NVML');

describeWithCompiler('the addon with a fake NVML', () => {
  let dir: string;
  let lib: Record<FakeVariant, string>;

  beforeAll(() => {
    ({ dir, paths: lib } = buildFakeNvml(cc as string, ['current', 'old-driver', 'init-fails', 'gpu-lost', 'not-nvml']));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const h200: GpuInfo = {
    index: 0,
    name: 'NVIDIA H200',
    sku: 'nvidia-h200',
    cc: '9.0',
    memoryTotalBytes: 143771 * MiB,
    uuid: 'GPU-36aa2363-923a-fef0-8fbe-922e985aca37',
    pciDeviceId: '0x233510DE',
    pciBusId: '00000000:19:00.0',
    driverVersion: '580.159.04',
    cudaDriverVersion: '13.0',
  };
  const h100: GpuInfo = {
    index: 1,
    name: 'NVIDIA H100 80GB HBM3',
    sku: 'nvidia-h100-80gb-hbm3',
    cc: '9.0',
    memoryTotalBytes: 81559 * MiB,
    uuid: 'GPU-0b5d6c8e-1111-2222-3333-444455556666',
    pciDeviceId: '0x233010DE',
    pciBusId: '00000000:3B:00.0',
    driverVersion: '580.159.04',
    cudaDriverVersion: '13.0',
  };

  test('listGpus reports every field of every GPU', async () => {
    await expect(listGpus({ library: lib.current })).resolves.toEqual([h200, h100]);
  });

  test('gpuTelemetry reports utilization, memory, processes, temperature, clocks and power', async () => {
    const before = Date.now();
    const telemetry = await gpuTelemetry(0, { library: lib.current });
    const { at, ...readings } = telemetry;
    expect(readings).toEqual({
      index: 0,
      utilizationGpu: 37,
      utilizationMemory: 12,
      memoryUsedBytes: 1536 * MiB,
      memoryTotalBytes: 143771 * MiB,
      // The second process's memory is NVML_VALUE_NOT_AVAILABLE in the fake.
      processes: [
        { pid: 4242, usedMemoryBytes: 1024 * MiB },
        { pid: 4343, usedMemoryBytes: null },
      ],
      temperatureC: 41,
      smClockMHz: 1980,
      memClockMHz: 3201,
      powerWatts: 123.456,
    });
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before - 1);
    expect(new Date(at).toISOString()).toBe(at);
  });

  test('an idle GPU has an empty process list, not null', async () => {
    const telemetry = await gpuTelemetry(1, { library: lib.current });
    expect(telemetry.processes).toEqual([]);
    expect(telemetry.utilizationGpu).toBe(0);
  });

  test('an index past the GPUs NVML sees is a RangeError naming how many there are', async () => {
    const error = await rejection(gpuTelemetry(2, { library: lib.current }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('Expected a GPU index (an index below 2: NVML sees 2 GPUs) for index but received 2');
  });

  test('concurrent calls share one NVML session', async () => {
    const calls = Array.from({ length: 16 }, (_, i) =>
      i % 2 === 0 ? gpuTelemetry(i % 4 === 0 ? 0 : 1, { library: lib.current }) : listGpus({ library: lib.current }),
    );
    const results = await Promise.all(calls);
    expect(results).toHaveLength(16);
    expect(results[1]).toEqual([h200, h100]);
  });

  test('an old driver degrades to null fields and the older process and PCI calls', async () => {
    const gpus = await listGpus({ library: lib['old-driver'] });
    expect(gpus[0]).toEqual({ ...h200, cudaDriverVersion: null });
    const telemetry = await gpuTelemetry(0, { library: lib['old-driver'] });
    expect(telemetry).toMatchObject({
      utilizationGpu: null,
      utilizationMemory: null,
      memoryUsedBytes: 1536 * MiB,
      processes: [
        { pid: 4242, usedMemoryBytes: 1024 * MiB },
        { pid: 4343, usedMemoryBytes: null },
      ],
      temperatureC: null,
      smClockMHz: 1980,
      powerWatts: null,
    });
  });

  test('a failing nvmlInit is NvmlUnavailableError with NVML code', async () => {
    const error = await rejection(listGpus({ library: lib['init-fails'] }));
    expect(error).toBeInstanceOf(NvmlUnavailableError);
    expect(error).toMatchObject({
      message: 'NVML could not be initialised: nvmlInit_v2 failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)',
      nvmlFunction: 'nvmlInit_v2',
      code: 'NVML_ERROR_DRIVER_NOT_LOADED',
    });
  });

  test('a lost GPU fails the telemetry call with NvmlError', async () => {
    const error = await rejection(gpuTelemetry(0, { library: lib['gpu-lost'] }));
    expect(error).toBeInstanceOf(NvmlError);
    expect(error).toMatchObject({
      message: 'nvmlDeviceGetPowerUsage failed for GPU 0: GPU is lost (NVML_ERROR_GPU_IS_LOST)',
      nvmlFunction: 'nvmlDeviceGetPowerUsage',
      code: 'NVML_ERROR_GPU_IS_LOST',
    });
    // The other GPU still answers.
    await expect(gpuTelemetry(1, { library: lib['gpu-lost'] })).resolves.toMatchObject({ powerWatts: 70 });
  });

  test('a library that is not NVML is NvmlUnavailableError naming the missing function', async () => {
    const error = await rejection(listGpus({ library: lib['not-nvml'] }));
    expect(error).toBeInstanceOf(NvmlUnavailableError);
    expect(error.message).toBe(`${lib['not-nvml']} is not a usable NVML library: it has no nvmlInit_v2`);
  });

  test('detectGpus returns the GPUs', async () => {
    await expect(detectGpus({ library: lib.current })).resolves.toEqual({ ok: true, gpus: [h200, h100] });
  });
});
