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

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-local-client-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('no GPU, no TensorRT: says what is missing', async () => {
  const found = await detectLocalClient({ nvmlLibrary: 'libnvidia-ml-absent.so.1', searchPath: path.join(dir, 'empty'), libraryDirs: [path.join(dir, 'empty')] });
  expect(found).toMatchObject({ platform: 'linux-x86_64', gpu: null, trt: null });
  expect(found.missing[0]).toMatch(/^no GPU: NVIDIA driver not found: libnvidia-ml-absent\.so\.1 could not be loaded/);
  expect(found.missing[1]).toMatch(/^no TensorRT: no trtexec on the PATH or at \/usr\/src\/tensorrt\/bin\/trtexec, and no libnvinfer\.so\.X\.Y\.Z in /);
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

test('kiln fetch with no flags on a machine without a GPU says so and which flags to pass', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'fetch', 'resnet50'], {
    env: { ...process.env, KILN_URL: 'http://127.0.0.1:9', KILN_TOKEN: 'x', PATH: path.dirname(process.execPath) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  expect(code).not.toBe(0);
  expect(stderr).toMatch(/^found: no GPU, no TensorRT, platform linux-x86_64$/m);
  expect(stderr).toMatch(/Cannot tell which artifact suits this machine: no GPU: .*Pass --cc and --trt for a GPU client \(e\.g\. --cc 8\.9 --trt 10\.9\.0\), or --target for a CPU client \(e\.g\. --target ort1\.30\.0-x86_64-avx2\)/);
});
