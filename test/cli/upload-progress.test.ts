/**
 * `kiln models push` of a model big enough to take a moment shows its progress: a bar on a
 * terminal (the CLI runs under util-linux `script`, which gives it a real pseudo-terminal), one
 * line when all was sent in a pipe, and nothing in --json mode off a terminal.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';
import { mobilenetV2, writeModel } from '../models';

const ROOT = path.join(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI = [process.execPath, '--import', TSX, path.join(ROOT, 'src', 'cli', 'main.ts')];

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

describe('upload progress of kiln models push', () => {
  let farm: TestFarm;
  let dir: string;
  let file: string;
  const model = mobilenetV2({ widthMultiplier: 0.5 });

  /** Runs the CLI; with `tty`, under a pseudo-terminal (its stdout and stderr both reach `stdout`). */
  function kiln(args: string[], tty = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = { ...process.env, KILN_URL: farm.url, KILN_TOKEN: TOKENS.builder, COLUMNS: '120' };
    const [command, ...argv] = tty ? ['script', '-qec', [...CLI, ...args].map(quote).join(' '), '/dev/null'] : [...CLI, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    farm = await startFarm();
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-upload-progress-'));
    file = await writeModel(model, dir, 'mobilenet.onnx');
    expect(model.length).toBeGreaterThan(1024 * 1024); // over the size that gets a progress display
  });
  afterAll(async () => {
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('in a pipe: a line once everything was sent, on stderr; the answer on stdout', async () => {
    const result = await kiln(['models', 'push', file, '--name', 'mobilenet']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^uploaded mobilenet\.onnx: [\d.]+ MiB in [\d.]+ s \([\d.]+ [KMG]iB\/s\)\n$/m);
    expect(result.stdout).toMatch(/^Stored mobilenet\.onnx\n/);
  });

  it('on a terminal: a bar with percent, bytes and rate', async () => {
    const result = await kiln(['models', 'push', file, '--name', 'mobilenet'], true);
    expect(result.code).toBe(0);
    // cli-progress redraws the line in place; the last drawing is the finished bar.
    expect(result.stdout).toMatch(/uploading mobilenet\.onnx \|█+\| 100% [\d.]+ MiB of [\d.]+ MiB, [\d.]+ [KMG]iB\/s/);
    expect(result.stdout).toContain('Already stored mobilenet.onnx');
  });

  it('with --json off a terminal: nothing but the JSON', async () => {
    const result = await kiln(['models', 'push', file, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ created: false, size: model.length });
  });
});
