/**
 * The README's worked example, run exactly as written: its commands are read from README.md (the
 * first `sh` block under "A worked example"), so the README and this test cannot drift apart.
 * The farm runs the way the README says, `npm start`, in a scratch copy of the checkout (its
 * `.kiln` and the example's files go there, not into the repository), on a free port: so, as the
 * README says for that case, the commands run with KILN_URL set. Each step is timed; the times
 * are printed (and written to $KILN_WORKED_EXAMPLE_TIMINGS as JSON when set), not asserted: a
 * shared 2-core machine's timings are for reading, `npm run bench` is where targets are held.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { deletePrefix } from '../helpers/farm';

const ROOT = path.join(__dirname, '..', '..');

export interface Step {
  /** The comment that introduces the step (`1. A ResNet-18-shaped model ...`), or the command. */
  label: string;
  command: string;
}

/** The commands of the worked example's `sh` block: comment lines dropped, `\` continuations joined. */
export function workedExampleSteps(readme: string): Step[] {
  const section = readme.indexOf('### A worked example');
  if (section < 0) throw new Error('README.md has no "### A worked example" section');
  const open = readme.indexOf('```sh\n', section);
  const close = readme.indexOf('\n```', open + 6);
  if (open < 0 || close < 0) throw new Error('The worked example has no ```sh block');
  const steps: Step[] = [];
  let label = '';
  let pending = '';
  for (const line of readme.slice(open + 6, close).split('\n')) {
    if (!pending && /^\s*(#|$)/.test(line)) {
      const comment = /^#\s*(\d+\..*)$/.exec(line.trim());
      if (comment) label = comment[1];
      continue;
    }
    pending += pending ? `\n${line}` : line;
    if (line.endsWith('\\')) continue;
    steps.push({ label: label || pending, command: pending });
    label = '';
    pending = '';
  }
  return steps;
}

/** The script bash runs: every step as written, timed, its output fenced, stopping at the first failure. */
export function stepsScript(steps: Step[]): string {
  const lines = ['shopt -s expand_aliases # the example defines `kiln` as an alias, as an interactive shell would take it'];
  steps.forEach((step, i) => {
    lines.push(
      `echo "@@step ${i}"; echo "@@step ${i}" >&2`,
      '__t0=$EPOCHREALTIME',
      step.command,
      '__rc=$?',
      `printf 'step ${i} %s %s %d\\n' "$__t0" "$EPOCHREALTIME" "$__rc" >&3`,
      '[ "$__rc" = 0 ] || exit "$__rc"',
    );
  });
  return lines.join('\n') + '\n';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A scratch checkout: the repository's files linked in, bin/kiln.js copied (node resolves a linked
 * main script to its real place, which would run the repository's own dist/), and dist/ made from
 * src/ as `npm install` makes it, by TypeScript, file by file (isolatedModules guarantees that
 * equals tsc's output; tsc itself would type-check the whole project again, which `npm test` does).
 */
function scratchCheckout(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-readme-'));
  for (const name of ['package.json', 'node_modules', 'src', 'test', 'dashboard', 'build', 'tsconfig.json']) {
    try {
      symlinkSync(path.join(ROOT, name), path.join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(ROOT, 'bin', 'kiln.js'), path.join(dir, 'bin', 'kiln.js'));
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
  if (!config) throw new Error('Cannot read tsconfig.build.json');
  const options = { ...config.options, sourceMap: false, declaration: false };
  for (const file of config.fileNames) {
    if (file.endsWith('.d.ts')) continue;
    const out = path.join(dir, 'dist', path.relative(path.join(ROOT, 'src'), file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText);
  }
  // JSON that src/ imports (resolveJsonModule) is copied beside the JavaScript, as tsc does.
  for (const file of readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.json')) copyFileSync(path.join(ROOT, 'src', file), path.join(dir, 'dist', file));
  }
  return dir;
}

/** Environment of a newcomer's shell: nothing of Kiln's set, except what the test must choose. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KILN_') && k !== 'NODE_ENV' && k !== 'REDIS_URL') env[k] = v;
  return { ...env, ...extra };
}

describe('the README worked example, as written', () => {
  let dir: string;
  let farm: ChildProcess | undefined;
  let farmOutput = '';
  const prefix = `ktreadme${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    if (farm?.pid && farm.exitCode === null) {
      // 'close', not 'exit': npm exits first, while start.js, the API and the worker still hold
      // the output pipes this process reads; the suite is done when they have all gone.
      const closed = new Promise((resolve) => farm!.once('close', resolve));
      process.kill(-farm.pid, 'SIGTERM'); // npm, its shell, start.js and the API and worker
      const killer = setTimeout(() => process.kill(-farm!.pid!, 'SIGKILL'), 20_000);
      await closed;
      clearTimeout(killer);
    }
    await deletePrefix(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every command of the example, each step timed', async () => {
    const steps = workedExampleSteps(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(steps.map((s) => s.command.split(' ')[0])).toEqual(expect.arrayContaining(['alias', 'export', 'npm', 'kiln']));

    const setupStarted = Date.now();
    dir = scratchCheckout();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    // "With the farm running (`npm start`)": started as the README says, in the scratch checkout.
    farm = spawn('npm', ['start'], { cwd: dir, env: cleanEnv({ KILN_PORT: String(port), KILN_PREFIX: prefix }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    farm.stdout!.on('data', (d) => (farmOutput += d));
    farm.stderr!.on('data', (d) => (farmOutput += d));
    const farmStarted = Date.now();
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        // The banner comes once the API answers; the worker says when it serves its target.
        if (/export KILN_TOKEN=/.test(farmOutput) && /\bserving (?:ort|trt)\S+/.test(farmOutput)) resolve();
        else if (farm!.exitCode !== null) reject(new Error(`npm start exited (${farm!.exitCode}):\n${farmOutput}`));
        // start.js restarts a process that dies, so a broken farm never exits: give up after a while.
        else if (Date.now() - farmStarted > 90_000) reject(new Error(`npm start did not bring up the API and a worker in 90 s:\n${farmOutput}`));
        else setTimeout(check, 100);
      };
      check();
    });
    const farmUpMs = Date.now() - farmStarted;
    expect(farmOutput).toContain(`dashboard  ${url}/dashboard`);
    expect(farmOutput).toContain(`export KILN_URL=${url}`);

    // The steps, in one shell as a person would type them; the farm is not on 8080, so KILN_URL is set.
    writeFileSync(path.join(dir, 'worked-example.sh'), stepsScript(steps));
    const shell = spawn('bash', ['worked-example.sh'], { cwd: dir, env: cleanEnv({ KILN_URL: url }), stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timing = '';
    shell.stdout!.on('data', (d) => (stdout += d));
    shell.stderr!.on('data', (d) => (stderr += d));
    (shell.stdio[3] as NodeJS.ReadableStream).on('data', (d) => (timing += d));
    const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));

    const outOf = (text: string, i: number) => text.split(`@@step ${i}\n`)[1]?.split(/@@step \d+\n/)[0] ?? '';
    const times = timing
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [, i, t0, t1, rc] = line.split(' ');
        return { step: steps[Number(i)].label, command: steps[Number(i)].command, seconds: Number(t1) - Number(t0), rc: Number(rc) };
      });
    const report = [
      `README worked example (setup: scratch checkout ${((farmStarted - setupStarted) / 1000).toFixed(1)} s, npm start until it printed the token ${(farmUpMs / 1000).toFixed(1)} s)`,
      ...times.map((t) => `  ${t.seconds.toFixed(2).padStart(6)} s  ${t.command.split('\n')[0].slice(0, 100)}`),
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (process.env.KILN_WORKED_EXAMPLE_TIMINGS) writeFileSync(process.env.KILN_WORKED_EXAMPLE_TIMINGS, JSON.stringify({ farmUpMs, steps: times }, null, 2));

    if (code !== 0) throw new Error(`The worked example stopped with status ${code} at step ${times.length}\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n--- farm\n${farmOutput}`);
    expect(times).toHaveLength(steps.length);

    const step = (start: string) => steps.findIndex((s) => s.command.startsWith(start));
    const target = readdirSync(dir).find((name) => name.startsWith('resnet18-'))?.slice('resnet18-'.length);
    expect(target).toMatch(/^ort\d+\.\d+\.\d+-/);
    expect(outOf(stdout, step('kiln models push'))).toMatch(/^Stored resnet18\.onnx\n/);
    expect(outOf(stderr, step('kiln models push'))).toMatch(/^uploaded resnet18\.onnx: 4\d\.\d+ MiB in [\d.]+ s/m);
    const watched = outOf(stdout, step('kiln build resnet18 --target $TARGET --option benchmark.maxBatch=4 --watch'));
    expect(watched).toContain(`[${target}] succeeded 100%`);
    expect(watched).toMatch(new RegExp(`${target}\\s+succeeded\\s+pass\\s+\\S+\\s+[\\d.]+ ms \\(batch 1\\)\\s+[\\d.]+ \\(batch [124]\\)`));
    expect(outOf(stdout, step('kiln fetch'))).toContain(`wrote into resnet18-${target}/:`);
    expect(outOf(stdout, step('kiln fetch'))).toContain('provenance: verified, signed by key');
    expect(readdirSync(path.join(dir, `resnet18-${target}`))).toContain('manifest.json');
    const last = steps.length - 1;
    expect(steps[last].command).toMatch(/# -> cached$/);
    expect(outOf(stdout, last)).toMatch(new RegExp(`${target}\\s+succeeded\\s+[0-9a-f]{64}\\s+cached`));
  }, 600_000);
});
