/**
 * native/build.js must never fail `npm install`: a build that breaks warns, keeps its log for the
 * loader, and exits 0; a build that works says so in one line and keeps node-gyp's chatter in the
 * log. Runs the real script and node-gyp on copies whose source does or does not compile.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCompiler } from './fake-nvml';

const prefix = path.resolve(path.dirname(process.execPath), '..');
const headersHere = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
// Without local headers node-gyp would try to download them; that is not this test's business.
const buildTest = headersHere && findCompiler() ? test : test.skip;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-build-script-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs a copy of native/build.js in a fresh directory holding one source file. */
function runBuildScript(name: string, source: string) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'native'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, '..', '..', 'native', 'build.js'), path.join(dir, 'native', 'build.js'));
  fs.writeFileSync(path.join(dir, 'binding.gyp'), JSON.stringify({ targets: [{ target_name: 'kiln_nvml', sources: ['addon.cc'] }] }));
  fs.writeFileSync(path.join(dir, 'addon.cc'), source);
  const { npm_config_nodedir: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [path.join(dir, 'native', 'build.js')], { cwd: dir, env, encoding: 'utf8' });
  return { dir, result, log: () => fs.readFileSync(path.join(dir, 'build', 'kiln-nvml-build.log'), 'utf8') };
}

buildTest('a failed build warns with the compiler\'s error, writes its log and exits 0', () => {
  const { dir, result, log } = runBuildScript('broken', '#error kiln test: this source is broken on purpose\n');

  expect(result.status).toBe(0);
  expect(result.stderr).toContain('kiln: WARNING: the NVML addon (GPU discovery and telemetry) could not be built: ');
  expect(result.stderr).toMatch(/^kiln: {3}.*error: #error kiln test: this source is broken on purpose$/m);
  expect(result.stderr).toContain('kiln: Kiln is installed and runs CPU-only; GPU workers need the addon.');
  // node-gyp's progress lines stay in the log.
  expect(result.stderr + result.stdout).not.toContain('gyp info');
  expect(log()).toContain('this source is broken on purpose');
  expect(log()).toMatch(/^kiln: the NVML addon could not be built: /);
  expect(fs.readFileSync(path.join(dir, 'build', '.gitignore'), 'utf8')).toContain('*');
  expect(fs.existsSync(path.join(dir, 'build', 'Release', 'kiln_nvml.node'))).toBe(false);
});

buildTest("a build that works prints one line and keeps node-gyp's output in the log", () => {
  const { dir, result, log } = runBuildScript('works', 'extern "C" int kiln_build_script_test() { return 1; }\n');

  expect(result.status).toBe(0);
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe("kiln: built the NVML addon (build/Release/kiln_nvml.node); node-gyp's output is in build/kiln-nvml-build.log\n");
  expect(log()).toMatch(/^kiln: the NVML addon was built\n/);
  expect(log()).toContain('gyp info ok');
  expect(fs.existsSync(path.join(dir, 'build', 'Release', 'kiln_nvml.node'))).toBe(true);
});
