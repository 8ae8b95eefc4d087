/**
 * `kiln worker --gpu`: the flag, the settings, one process per GPU (pinned by UUID, restarted when
 * it dies, stopped by a signal), and what a machine without a driver says. There is no GPU here,
 * so the per-GPU processes are a small stand-in script and the GPUs are given.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import type { GpuInfo } from '../../src/native/types';
import { NoGpuError, selectedGpus, startGpuWorkerProcesses, type GpuWorkerProcesses } from '../../src/worker/gpu/launcher';
import { gpuFlag } from '../../src/worker/main';

const gpu = (index: number, uuid: string): GpuInfo => ({
  index,
  name: 'NVIDIA H200',
  sku: 'nvidia-h200',
  cc: '9.0',
  memoryTotalBytes: 150_754_820_096,
  uuid,
  pciDeviceId: '0x233510DE',
  pciBusId: `00000000:${index}8:00.0`,
  driverVersion: '580.159.04',
  cudaDriverVersion: '13.0',
});

test('--gpu on the command line, as npm run start:worker -- --gpu all passes it', () => {
  expect(gpuFlag(['--gpu', 'all'])).toBe('all');
  expect(gpuFlag(['--gpu=0,1'])).toBe('0,1');
  expect(gpuFlag([])).toBeUndefined();
});

test('KILN_GPUS and the idle guard settings, with their defaults and what is accepted', () => {
  const defaults = loadConfig({});
  expect(defaults).toMatchObject({ gpus: 'none', gpuIdle: { policy: 'wait', waitSeconds: 120, utilizationPercent: 10 }, nvmlLibrary: 'libnvidia-ml.so.1' });
  expect(loadConfig({ KILN_GPUS: 'GPU-36aa2363-923a-fef0-8fbe-922e985aca37,1', KILN_GPU_IDLE_POLICY: 'refuse' })).toMatchObject({ gpus: 'GPU-36aa2363-923a-fef0-8fbe-922e985aca37,1', gpuIdle: { policy: 'refuse' } });
  expect(() => loadConfig({ KILN_GPUS: '0 1' })).toThrow('KILN_GPUS: none, all, or GPU indices/UUIDs separated by commas');
  expect(() => loadConfig({ KILN_GPU_IDLE_POLICY: 'maybe' })).toThrow(/KILN_GPU_IDLE_POLICY/);
});

test('without an NVIDIA driver, --gpu says why no GPU can be used and how to run a CPU worker', async () => {
  const error = await selectedGpus({ nvmlLibrary: 'libnvidia-ml-absent.so.1' }, 'all').catch((e: Error) => e);
  expect(error).toBeInstanceOf(NoGpuError);
  expect((error as Error).message).toMatch(/^--gpu all: no GPU can be used here: .+\. Run `kiln worker` without --gpu for a CPU worker$/);
});

test('the worker process exits with that message', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'src', 'worker', 'main.ts'), '--gpu', 'all'], {
    env: { ...process.env, KILN_NVML_LIBRARY: 'libnvidia-ml-absent.so.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  expect(code).toBe(1);
  expect(stderr).toMatch(/\[worker\] --gpu all: no GPU can be used here: .*Run `kiln worker` without --gpu for a CPU worker/);
});

describe('one worker process per GPU', () => {
  let dir: string;
  let entry: string;
  let fleet: GpuWorkerProcesses | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-gpu-launch-'));
    entry = path.join(dir, 'worker.js');
    // Says who it was started as, then runs until SIGTERM, like a worker.
    await writeFile(
      entry,
      `process.on('SIGTERM', () => process.exit(0));
       const { KILN_GPUS, KILN_WORKER_ID, CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER } = process.env;
       process.stdout.write(JSON.stringify({ KILN_GPUS, KILN_WORKER_ID, CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER }) + '\\n');
       setInterval(() => {}, 1000);`,
    );
  });
  afterEach(() => fleet?.stop('SIGKILL'));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const firstLine = (child: import('node:child_process').ChildProcess) =>
    new Promise<Record<string, string>>((resolve) => {
      let text = '';
      child.stdout!.on('data', (chunk) => {
        text += chunk;
        if (text.includes('\n')) resolve(JSON.parse(text.slice(0, text.indexOf('\n'))));
      });
    });

  test('each pinned to its GPU by UUID, with an id per GPU; SIGTERM reaches each', async () => {
    const logs: string[] = [];
    const gpus = [gpu(0, 'GPU-aaaa0000-0000-0000-0000-000000000000'), gpu(1, 'GPU-bbbb1111-1111-1111-1111-111111111111')];
    fleet = startGpuWorkerProcesses({ workerId: 'rack7' }, gpus, { file: entry, execArgv: [], stdio: 'pipe', log: (l) => logs.push(l) });
    const seen = await Promise.all(gpus.map((g) => firstLine(fleet!.children.get(g.index)!)));
    expect(seen).toEqual([
      { KILN_GPUS: gpus[0].uuid, KILN_WORKER_ID: 'rack7-gpu0', CUDA_VISIBLE_DEVICES: gpus[0].uuid, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' },
      { KILN_GPUS: gpus[1].uuid, KILN_WORKER_ID: 'rack7-gpu1', CUDA_VISIBLE_DEVICES: gpus[1].uuid, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' },
    ]);
    const children = [...fleet.children.values()];
    await fleet.stop('SIGTERM');
    expect(children.map((c) => c.exitCode)).toEqual([0, 0]);
    expect(fleet.children.size).toBe(0);
    expect(logs[0]).toMatch(/^GPU 0 \(NVIDIA H200, CC 9\.0, GPU-aaaa0000-0000-0000-0000-000000000000\): worker pid \d+$/);
  });

  test('a worker that dies is started again', async () => {
    const logs: string[] = [];
    let onLog: (line: string) => void = () => undefined;
    const log = (line: string) => {
      logs.push(line);
      onLog(line);
    };
    fleet = startGpuWorkerProcesses({}, [gpu(3, 'GPU-cccc3333-3333-3333-3333-333333333333')], { file: entry, execArgv: [], stdio: 'pipe', log });
    const first = fleet.children.get(3)!;
    expect((await firstLine(first)).KILN_WORKER_ID).toBe(`${os.hostname()}-gpu3`);
    const restarted = new Promise<void>((resolve) => (onLog = (line) => line.includes('worker pid') && resolve()));
    first.kill('SIGKILL');
    await restarted;
    expect(logs[1]).toBe('worker of GPU 3 exited (SIGKILL); restarting in 1000 ms');
    const second = fleet.children.get(3)!;
    expect(second.pid).not.toBe(first.pid);
    expect((await firstLine(second)).CUDA_VISIBLE_DEVICES).toBe('GPU-cccc3333-3333-3333-3333-333333333333');
  });
});
