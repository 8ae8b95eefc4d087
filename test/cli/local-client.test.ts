/**
 * `kiln fetch` without --target/--cc/--trt: what it finds about this machine. There is no NVIDIA
 * driver here, so NVML is asked for a library that does not exist; TensorRT is a script printing
 * trtexec's banner, or a libnvinfer file name.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeLocalClient, detectLocalClient } from '../../src/cli/local-client';
import { onnxRuntimeVersion } from '../../src/core/onnxruntime-version';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-local-client-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ORT = onnxRuntimeVersion();

/** A /proc/cpuinfo with these flags (x86_64: this machine's arch is what parseCpuInfo is told). */
async function cpuinfo(name: string, flags: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: ${flags}\n\n`);
  return file;
}

test('no GPU, no TensorRT: says what is missing, and finds the CPU target to fall back to', async () => {
  const found = await detectLocalClient({
    nvmlLibrary: 'libnvidia-ml-absent.so.1',
    searchPath: path.join(dir, 'empty'),
    libraryDirs: [path.join(dir, 'empty')],
    cpuinfoPath: await cpuinfo('avx2', 'fpu sse sse2 avx avx2 fma'),
  });
  expect(found).toMatchObject({ platform: 'linux-x86_64', gpu: null, trt: null, cpu: { targetKey: `ort${ORT}-x86_64-avx2`, model: 'Test CPU' } });
  expect(found.missing[0]).toMatch(/^no GPU: NVIDIA driver not found: libnvidia-ml-absent\.so\.1 could not be loaded/);
  expect(found.missing[1]).toMatch(/^no TensorRT: no trtexec on the PATH or at \/usr\/src\/tensorrt\/bin\/trtexec, and no libnvinfer\.so\.X\.Y\.Z in /);
  expect(found.missing).toHaveLength(2);
  expect(describeLocalClient(found)).toBe(`found: no GPU, no TensorRT, platform linux-x86_64, CPU target ort${ORT}-x86_64-avx2`);

  // The ISA is the one a worker on this CPU builds: an avx512 machine is avx512, not avx2.
  const wide = await detectLocalClient({ nvmlLibrary: 'libnvidia-ml-absent.so.1', searchPath: path.join(dir, 'empty'), libraryDirs: [], cpuinfoPath: await cpuinfo('avx512', 'avx2 fma avx512f') });
  expect(wide.cpu?.targetKey).toBe(`ort${ORT}-x86_64-avx512`);
});

test('a CPU it cannot read is said, not guessed', async () => {
  const found = await detectLocalClient({ nvmlLibrary: 'libnvidia-ml-absent.so.1', searchPath: path.join(dir, 'empty'), libraryDirs: [], cpuinfoPath: path.join(dir, 'no-cpuinfo') });
  expect(found.cpu).toBeNull();
  expect(found.missing[2]).toMatch(/^no CPU target: Expected to read the CPU's features from .*no-cpuinfo but could not/);
  expect(describeLocalClient(found)).toBe('found: no GPU, no TensorRT, platform linux-x86_64');
});

test('the TensorRT version from trtexec\'s banner, else from libnvinfer next to it', async () => {
  const bin = path.join(dir, 'trt', 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'trtexec'), '#!/bin/sh\necho "&&&& RUNNING TensorRT.trtexec [TensorRT v100900] # trtexec"\nexit 1\n');
  await chmod(path.join(bin, 'trtexec'), 0o755);
  expect((await detectLocalClient({ nvmlLibrary: 'libnvidia-ml-absent.so.1', searchPath: bin, libraryDirs: [] })).trt).toEqual({ version: '10.9.0', from: path.join(bin, 'trtexec') });

  await writeFile(path.join(bin, 'trtexec'), '#!/bin/sh\necho "no banner"\nexit 1\n');
  await mkdir(path.join(dir, 'trt', 'lib'), { recursive: true });
  await writeFile(path.join(dir, 'trt', 'lib', 'libnvinfer.so.10.3.0'), '');
  const found = await detectLocalClient({ nvmlLibrary: 'libnvidia-ml-absent.so.1', searchPath: bin, libraryDirs: [] });
  expect(found.trt).toEqual({ version: '10.3.0', from: path.join(bin, '..', 'lib', 'libnvinfer.so.10.3.0') });
});

test('kiln fetch with no flags on a machine without a GPU says so and asks for the CPU artifact', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'fetch', 'resnet50'], {
    env: { ...process.env, KILN_URL: 'http://127.0.0.1:9', KILN_TOKEN: 'x', PATH: path.dirname(process.execPath) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  // No farm listens on port 9: the resolve fails after detection (test/cli/cli-e2e.test.ts fetches for real).
  expect(code).toBe(1);
  expect(stderr).toMatch(new RegExp(`^found: no GPU, no TensorRT, platform linux-x86_64, CPU target ort${ORT.replace(/\./g, '\\.')}-x86_64-(baseline|avx2|avx512)$`, 'm'));
  expect(stderr).toMatch(/^no GPU, so the CPU artifact for ort\S+ \(the ONNX when there is none\); pass --cc and --trt for an engine, or --target for another CPU target$/m);
  expect(stderr).not.toMatch(/Cannot tell which artifact/);
});
