/** The loader tries each candidate binary and, when none loads, says why each failed and what to do. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultAddonCandidates, loadAddon, NativeAddonError } from '../../src/native';
import { buildFakeNvml, findCompiler } from './fake-nvml';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-load-addon-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function loadError(candidates: string[], buildLog = path.join(tmp, 'no-build.log')): NativeAddonError {
  try {
    loadAddon(candidates, buildLog);
  } catch (err) {
    expect(err).toBeInstanceOf(NativeAddonError);
    return err as NativeAddonError;
  }
  throw new Error('Expected loadAddon to throw');
}

const runtime = `${process.platform}-${process.arch}, Node.js ${process.version} (N-API ${process.versions.napi})`;
const SOLUTIONS = [
  'Possible solutions:',
  "- Build the addon, in Kiln's checkout:",
  '    npm run install',
  '- Rebuild it where Kiln is installed as a dependency:',
  '    npm rebuild kiln',
  '- Install what node-gyp needs to compile it (Debian/Ubuntu), then build again:',
  '    apt-get install -y build-essential python3',
];

test('missing binaries: every candidate is listed, then the solutions', () => {
  const candidates = [path.join(tmp, 'Release', 'kiln_nvml.node'), path.join(tmp, 'Debug', 'kiln_nvml.node')];
  const error = loadError(candidates);
  expect(error.message).toBe(
    [
      `Could not load Kiln's NVML addon (kiln_nvml.node) on ${runtime}:`,
      `- ${candidates[0]}: not found`,
      `- ${candidates[1]}: not found`,
      'Kiln runs CPU-only without the addon; GPU workers need it.',
      ...SOLUTIONS,
    ].join('\n'),
  );
  expect(error.failures).toEqual([
    { path: candidates[0], reason: 'not found' },
    { path: candidates[1], reason: 'not found' },
  ]);
});

test('a corrupt binary gives its loader error and the rebuild hint; a failed build points at its log', () => {
  const corrupt = path.join(tmp, 'corrupt.node');
  fs.writeFileSync(corrupt, Buffer.alloc(4096, 'garbage, not a shared object. '));
  const buildLog = path.join(tmp, 'kiln-nvml-build.log');
  fs.writeFileSync(buildLog, 'node-gyp rebuild exited with code 1\n');
  const error = loadError([corrupt], buildLog);
  const lines = error.message.split('\n');
  expect(lines[1]).toMatch(/^- .*corrupt\.node: .*invalid ELF header/);
  expect(lines[2]).toBe(`Building it at install time failed; the build log is ${buildLog}`);
  const solutions = lines.indexOf('Possible solutions:');
  expect(lines.slice(solutions)).toEqual([
    ...SOLUTIONS,
    '- A binary is damaged or was built for another system: delete it and build again here:',
    '    rm -rf build && npm run install',
  ]);
});

test('a build that worked at install time is not called a failed one', () => {
  const buildLog = path.join(tmp, 'kiln-nvml-build-ok.log');
  fs.writeFileSync(buildLog, 'kiln: the NVML addon was built\ndate: 2026-01-01T00:00:00.000Z\n\ngyp info ok\n');
  const lines = loadError([path.join(tmp, 'deleted.node')], buildLog).message.split('\n');
  expect(lines[2]).toBe(`It was built at install time (the build log is ${buildLog}) but does not load now`);
});

(findCompiler() ? test : test.skip)('a shared library that is not a Node addon fails; the next candidate loads', () => {
  const { dir, paths } = buildFakeNvml(findCompiler() as string, ['not-nvml']);
  try {
    const error = loadError([paths['not-nvml']]);
    expect(error.failures[0].reason).toMatch(/Module did not self-register/);
    const addon = loadAddon([paths['not-nvml'], ...defaultAddonCandidates()]);
    expect(typeof addon.listGpus).toBe('function');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
