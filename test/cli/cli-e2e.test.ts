/**
 * The real `kiln` command (a separate node process running src/cli/main.ts) against a real API and
 * worker: push, build --watch, resubmit (cached), status, builds, fetch with verification, and the
 * errors a user sees (a role too low, a usage mistake).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';
import { tinyConv, writeModel } from '../models';

const ROOT = path.join(__dirname, '..', '..');
// tsx by its path, so the CLI can run with another working directory (fetch's default output).
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('kiln CLI against a real farm', () => {
  let farm: TestFarm;
  let target: string;
  let dir: string;
  let modelFile: string;
  const model = tinyConv();
  const quick = ['--option', 'benchmark.iterations=3', '--option', 'benchmark.warmup=1', '--option', 'benchmark.maxBatch=2'];

  const running = new Set<ReturnType<typeof spawn>>();

  /** Runs the CLI asynchronously: the API it talks to lives in this process. */
  function kiln(args: string[], token: string | null = TOKENS.builder, cwd = ROOT): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, KILN_URL: farm.url };
    delete env.KILN_TOKEN;
    if (token) env.KILN_TOKEN = token;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      running.add(child);
      child.on('error', reject);
      child.on('close', (code) => {
        running.delete(child);
        resolve({ code, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    farm = await startFarm();
    target = (await farm.startWorker()).targets[0];
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-e2e-'));
    modelFile = await writeModel(model, dir, 'tiny.onnx');
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL'); // only after a failed test
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let buildId: string;

  it('pushes a model, streaming it, and prints what the API read from it', async () => {
    const json = await kiln(['models', 'push', modelFile, '--name', 'cli-tiny', '--json']);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ sha256: sha256(model), labels: ['cli-tiny@1'], created: true });

    const human = await kiln(['models', 'push', modelFile, '--name', 'cli-tiny']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Already stored tiny.onnx');
    expect(human.stdout).toMatch(new RegExp(`sha256:\\s+${sha256(model)}`));
    expect(human.stdout).toMatch(/x\s+float\s+batchx3x16x16/);
  });

  it('lists models from every page of GET /v1/models', async () => {
    const listed = await kiln(['models', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).models).toEqual([expect.objectContaining({ sha256: sha256(model), labels: ['cli-tiny@1'] })]);
    expect((await kiln(['models', 'list'])).stdout).toContain('cli-tiny@1');
  });

  it('builds with --watch: plain progress lines off a terminal, a summary, exit 0', async () => {
    const result = await kiln(['build', 'cli-tiny', '--target', target, ...quick, '--watch']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    buildId = /\b([0-9a-f]{64})\b/.exec(result.stdout)![1];
    expect(result.stdout).toContain(`[${target}] building`);
    expect(result.stdout).toContain(`[${target}] succeeded 100%`);
    expect(result.stdout).toMatch(new RegExp(`${target}\\s+succeeded\\s+pass`));
    // One percent across the phases: it never goes back when the next phase starts.
    const percents = [...result.stdout.matchAll(new RegExp(`^\\[${target}\\] \\w+ (\\d+)%`, 'gm'))].map((m) => Number(m[1]));
    expect(percents.length).toBeGreaterThan(3);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    // The summary carries what the artifact measured.
    expect(result.stdout).toMatch(/TARGET\s+STATE\s+VERDICT\s+TIME\s+LATENCY\s+SAMPLES\/S/);
    expect(result.stdout).toMatch(/\d+\.\d+ ms \(batch 1\)\s+[\d.]+ \(batch [12]\)/);
  });

  it('prints its version with --version and -V', async () => {
    const version: string = require('../../package.json').version;
    expect(await kiln(['--version'], null)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await kiln(['-V'], null)).stdout).toBe(`${version}\n`);
  });

  it('answers a resubmission as cached, and status shows the report', async () => {
    const again = await kiln(['build', 'cli-tiny', '-t', target, ...quick, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).builds).toEqual([expect.objectContaining({ id: buildId, cached: true, state: 'succeeded' })]);

    const status = await kiln(['status', buildId.slice(0, 10)], TOKENS.reader);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/state:\s+succeeded/);
    expect(status.stdout).toMatch(/model\.optimized\.onnx\s+model/);
    expect(status.stdout).toContain('benchmark:');

    const builds = await kiln(['builds', '--state', 'succeeded', '--all', '--json'], TOKENS.reader);
    expect(JSON.parse(builds.stdout)).toMatchObject({ builds: [expect.objectContaining({ id: buildId })], nextCursor: null });
  });

  it('fetches the CPU artifact into a directory, every file verified against the manifest', async () => {
    const out = path.join(dir, 'fetched');
    const result = await kiln(['fetch', 'cli-tiny', '--target', target, '-o', out, '--json'], TOKENS.reader);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const answer = JSON.parse(result.stdout);
    expect(answer.resolve).toMatchObject({ rung: 'cpu', buildKey: buildId, target });
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    // Beside the set's files: its manifest, and the statement signed in its provenance envelope.
    expect((await readdir(out)).sort()).toEqual([...manifest.files.map((f: { name: string }) => f.name), 'manifest.json', 'provenance.statement.json'].sort());
    for (const f of manifest.files) expect(sha256(await readFile(path.join(out, f.name)))).toBe(f.sha256);

    const again = await kiln(['fetch', 'cli-tiny', '--target', target, '-o', out], TOKENS.reader);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('rung:');
    expect(again.stdout).toContain('already there, verified');
  });

  it('fetches into MODEL-TARGET in the current directory when no -o is given', async () => {
    const cwd = await mkdtemp(path.join(dir, 'cwd-'));
    const result = await kiln(['fetch', 'cli-tiny', '--target', target], TOKENS.reader, cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote into cli-tiny-${target}/:`);
    expect(await readdir(path.join(cwd, `cli-tiny-${target}`))).toContain('manifest.json');
  });

  it('fetches the CPU artifact with no flags on this machine, which has no GPU', async () => {
    const cwd = await mkdtemp(path.join(dir, 'detect-'));
    const result = await kiln(['fetch', 'cli-tiny'], TOKENS.reader, cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^found: no GPU, no TensorRT, platform linux-x86_64, CPU target ${target.replace(/\./g, '\\.')}$`, 'm'));
    expect(result.stdout).toMatch(/^rung:\s+cpu: /m);
    expect(result.stdout).toContain(`wrote into cli-tiny-${target}/:`);
    const manifest = JSON.parse(await readFile(path.join(cwd, `cli-tiny-${target}`, 'manifest.json'), 'utf8'));
    expect(manifest.spec.targetKey).toBe(target);
  });

  it('prints the log, and cancels, retries and shows a request whose target no worker serves', async () => {
    const log = await kiln(['log', buildId], TOKENS.reader);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('== validating');

    const unserved = target.startsWith('ort1.30.0-aarch64') ? 'ort1.30.0-x86_64-avx2' : 'ort1.30.0-aarch64-neon';
    const submitted = JSON.parse((await kiln(['build', 'cli-tiny', '-t', unserved, '--json'])).stdout);
    expect(submitted.builds[0].warning).toMatch(/No live worker serves/);
    const id: string = submitted.builds[0].id;

    // A queued build has no log yet; saying nothing would look like a broken command.
    const empty = await kiln(['log', id.slice(0, 8)], TOKENS.reader);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect(empty.stderr).toContain(`Build ${id.slice(0, 12)} is queued: no worker has started it yet, so it has no log. Is a worker serving ${unserved}? \`kiln workers\` lists them`);

    const cancel = await kiln(['cancel', id]);
    expect(cancel).toMatchObject({ code: 0, stdout: `Cancelled build ${id}\n` });
    const again = await kiln(['cancel', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`Build ${id} already cancelled; nothing to cancel`);
    const retry = await kiln(['retry', id, '--json']);
    expect(JSON.parse(retry.stdout)).toEqual({ buildKey: id, id, state: 'queued' });

    const request = await kiln(['request', submitted.request], TOKENS.reader);
    expect(request.code).toBe(0);
    expect(request.stdout).toMatch(/state:\s+queued \(1 queued\)/);
    expect(request.stdout).toContain(id);

    // A prefix names a request, as the dashboard's and `kiln requests`' short ids do.
    const byPrefix = await kiln(['request', submitted.request.slice(0, 8)], TOKENS.reader);
    expect(byPrefix.code).toBe(0);
    expect(byPrefix.stdout).toContain(`request:  ${submitted.request}`);
    const malformed = await kiln(['request', 'resnet18'], TOKENS.reader);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('error: Expected a request id (a UUID such as 3f2a9c1e-7b4d-4e2a-9c51-0d8e6f1a2b3c) or its first 6 or more characters but received "resnet18"');
    const unknown = await kiln(['request', '000000'], TOKENS.reader);
    expect(unknown.stderr).toContain('error: No request starts with 000000; `kiln requests` (GET /v1/requests) lists the recent ones');

    const list = await kiln(['requests'], TOKENS.reader);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^REQUEST\s+MODEL\s+BUILDS\s+STATE\s+CREATED$/);
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${submitted.request}\\s+[0-9a-f]{12}\\s+1\\s+queued \\(1 queued\\)`));
  });

  it('explains a role too low, a missing token, and usage mistakes, with distinct exit codes', async () => {
    const forbidden = await kiln(['workers'], TOKENS.builder);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('error: This needs the admin role; your token has the builder role');
    expect(forbidden.stderr).toContain('KILN_TOKEN');

    const anonymous = await kiln(['builds'], null);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/Authentication required[\s\S]*Set KILN_TOKEN/);

    const usage = await kiln(['build', 'cli-tiny']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: Give at least one --target KEY, or --live for every target a live worker serves; `kiln workers` lists the targets of this farm's workers");

    const workers = await kiln(['workers', '--json'], TOKENS.admin);
    expect(JSON.parse(workers.stdout).workers.map((w: { targets: string[] }) => w.targets)).toEqual([[target]]);
  });

  it('deletes a model only with --yes, says what it freed, and runs the garbage collector for an admin', async () => {
    const other = tinyConv({ seed: 9 });
    const file = await writeModel(other, dir, 'other.onnx');
    expect((await kiln(['models', 'push', file, '--name', 'cli-doomed'])).code).toBe(0);

    const unconfirmed = await kiln(['models', 'delete', 'cli-doomed']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('error: Deleting cli-doomed removes it, its builds and artifacts for good; add --yes to confirm');

    const deleted = await kiln(['models', 'delete', 'cli-doomed', '--yes']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`Deleted model ${sha256(other)} (cli-doomed@1): 0 build(s), 1 file(s)`);
    expect((await kiln(['models', 'show', 'cli-doomed'])).code).toBe(1);

    expect((await kiln(['admin', 'gc'], TOKENS.builder)).stderr).toContain('This needs the admin role');
    const gc = await kiln(['admin', 'gc', '--json', '--grace', '3600'], TOKENS.admin);
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ bytesFreed: expect.any(Number), store: { manifests: expect.any(Number) } });
    // Six CLI processes: a shared, loaded machine takes longer than the default minute.
  }, 180_000);
});
