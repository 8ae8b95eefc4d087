/**
 * This machine has no NVIDIA driver: the addon must still build and load, and every call must
 * reject with a clear NvmlUnavailableError rather than crash. Arguments are checked in JS first.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  defaultAddonCandidates,
  gpuTelemetry,
  listGpus,
  loadAddon,
  NvmlUnavailableError,
  type NvmlAddon,
} from '../../src/native';
import { detectGpus } from '../../src/worker/hardware/gpu';
import { findCompiler, rejection } from './fake-nvml';

const PREFIX = 'NVIDIA driver not found: libnvidia-ml.so.1 could not be loaded: ';
const hasDriver = /libnvidia-ml\.so\.1\b/.test(spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '');
const noDriverTest = hasDriver ? test.skip : test;
if (hasDriver) console.warn('test/native/no-driver.test.ts: this machine has an NVIDIA driver; its no-driver cases are skipped');

const compilerTest = findCompiler() ? test : test.skip;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-no-driver-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

compilerTest('npm install built the addon, and it loads', () => {
  const [release] = defaultAddonCandidates();
  expect(fs.existsSync(release)).toBe(true);
  const addon = loadAddon([release]);
  expect(typeof addon.listGpus).toBe('function');
  expect(typeof addon.gpuTelemetry).toBe('function');
});

noDriverTest('listGpus rejects with NvmlUnavailableError saying the driver is missing', async () => {
  const error = await rejection(listGpus());
  expect(error).toBeInstanceOf(NvmlUnavailableError);
  expect(error.message.startsWith(PREFIX)).toBe(true);
  expect(error.message).toBe(`${PREFIX}libnvidia-ml.so.1: cannot open shared object file: No such file or directory`);
});

noDriverTest('gpuTelemetry rejects the same way', async () => {
  const error = await rejection(gpuTelemetry(0));
  expect(error).toBeInstanceOf(NvmlUnavailableError);
  expect(error.message.startsWith(PREFIX)).toBe(true);
});

noDriverTest('detectGpus gives the reason instead of rejecting', async () => {
  const detection = await detectGpus();
  expect(detection.ok).toBe(false);
  expect(!detection.ok && detection.reason.startsWith(PREFIX)).toBe(true);
});

test('a library path that does not exist names the path', async () => {
  const missing = path.join(tmp, 'libnvidia-ml.so.1');
  const error = await rejection(listGpus({ library: missing }));
  expect(error).toBeInstanceOf(NvmlUnavailableError);
  expect(error.message).toBe(
    `NVIDIA driver not found: ${missing} could not be loaded: ${missing}: cannot open shared object file: No such file or directory`,
  );
});

test('a corrupt library is NvmlUnavailableError, not a crash', async () => {
  const corrupt = path.join(tmp, 'corrupt.so');
  fs.writeFileSync(corrupt, 'not an ELF file\n');
  const error = await rejection(gpuTelemetry(0, { library: corrupt }));
  expect(error).toBeInstanceOf(NvmlUnavailableError);
  expect(error.message).toMatch(/^NVIDIA driver not found: .*corrupt\.so could not be loaded: .*(invalid ELF header|file too short)/);
});

describe('arguments are validated before the addon is called', () => {
  const untouchable: NvmlAddon = {
    listGpus: () => {
      throw new Error('the addon must not be called');
    },
    gpuTelemetry: () => {
      throw new Error('the addon must not be called');
    },
  };

  test.each([
    [-1, 'Expected a non-negative integer for index but received -1 of type number'],
    [1.5, 'Expected a non-negative integer for index but received 1.5 of type number'],
    [NaN, 'Expected a non-negative integer for index but received NaN of type number'],
    [2 ** 32, 'Expected a non-negative integer for index but received 4294967296 of type number'],
    ['0', 'Expected a non-negative integer for index but received 0 of type string'],
    [undefined, 'Expected a non-negative integer for index but received undefined of type undefined'],
    [null, 'Expected a non-negative integer for index but received null of type object'],
  ])('gpuTelemetry(%p)', async (index, message) => {
    const error = await rejection(gpuTelemetry(index as number, { addon: untouchable }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  test.each([
    ['', 'Expected a non-empty string (a library name or path) for library but received  of type string'],
    [42, 'Expected a non-empty string (a library name or path) for library but received 42 of type number'],
    ['lib\0nvml', 'Expected a non-empty string (a library name or path) for library but received lib\0nvml of type string'],
  ])('library %p', async (library, message) => {
    const error = await rejection(listGpus({ library: library as string, addon: untouchable }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });
});
