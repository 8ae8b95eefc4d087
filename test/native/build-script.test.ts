/**
 * native/build.js must never fail `npm install`: a build that breaks warns, keeps its log for the
 * loader, and exits 0. Runs the real script and node-gyp on a copy whose source does not compile.
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

buildTest('a failed build warns, writes its log and exits 0', () => {
  fs.mkdirSync(path.join(tmp, 'native'));
  fs.copyFileSync(path.join(__dirname, '..', '..', 'native', 'build.js'), path.join(tmp, 'native', 'build.js'));
  fs.writeFileSync(
    path.join(tmp, 'binding.gyp'),
    JSON.stringify({ targets: [{ target_name: 'kiln_nvml', sources: ['broken.cc'] }] }),
  );
  fs.writeFileSync(path.join(tmp, 'broken.cc'), '#error kiln test: this source is broken on purpose\n');

  const { npm_config_nodedir: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [path.join(tmp, 'native', 'build.js')], { cwd: tmp, env, encoding: 'utf8' });

  expect(result.status).toBe(0);
  expect(result.stderr).toContain('kiln: WARNING: the NVML addon (GPU discovery and telemetry) could not be built: ');
  expect(result.stderr).toContain('kiln: Kiln is installed and runs CPU-only; GPU workers need the addon.');
  const log = fs.readFileSync(path.join(tmp, 'build', 'kiln-nvml-build.log'), 'utf8');
  expect(log).toContain('this source is broken on purpose');
  expect(fs.readFileSync(path.join(tmp, 'build', '.gitignore'), 'utf8')).toContain('*');
  expect(fs.existsSync(path.join(tmp, 'build', 'Release', 'kiln_nvml.node'))).toBe(false);
});
