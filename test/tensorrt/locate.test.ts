import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isFound, locateTrtexec } from '../../src/worker/toolchains/tensorrt/locate';

const STANDIN = join(__dirname, '..', 'trtexec-standin', 'trtexec.js');

/** A `trtexec` in `dir`: a shell script, e.g. the stand-in playing another version. */
async function script(dir: string, body: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'trtexec');
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('locateTrtexec', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-locate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('an explicit path: runs it and reads the version from its banner', async () => {
    const result = await locateTrtexec({ explicitPath: STANDIN, fallbackPaths: [] });
    expect(result).toEqual({ path: STANDIN, version: '10.9.0', build: 34 });
  });

  test('the PATH: the first trtexec found, here the stand-in playing 8.6.1 (no build tag before 10.4)', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const path = await script(join(dir, 'bin86'), `KILN_STANDIN_TRT=8.6.1 exec "${process.execPath}" "${STANDIN}" "$@"`);
    const result = await locateTrtexec({ searchPath: ['relative/bin', empty, join(dir, 'bin86')].join(delimiter), fallbackPaths: ['/nonexistent/trtexec'] });
    expect(result).toEqual({ path, version: '8.6.1' });
    expect(isFound(result)).toBe(true);
  });

  test('nothing found: says where it looked', async () => {
    const result = await locateTrtexec({ searchPath: join(dir, 'empty'), fallbackPaths: ['/nonexistent/trtexec'] });
    expect(result).toEqual({ reason: `no trtexec found on PATH (${join(dir, 'empty')}) or at /nonexistent/trtexec; install TensorRT or set KILN_TRTEXEC` });
    expect(isFound(result)).toBe(false);
  });

  test('an explicit path that cannot be used is reported, not replaced by another trtexec', async () => {
    expect(await locateTrtexec({ explicitPath: '/nonexistent/trtexec', searchPath: join(dir, 'bin86') })).toEqual({
      reason: 'KILN_TRTEXEC=/nonexistent/trtexec does not exist',
    });
    expect(await locateTrtexec({ explicitPath: 'trtexec' })).toEqual({ reason: 'KILN_TRTEXEC must be an absolute path to trtexec but is "trtexec"' });
    const plain = join(dir, 'not-executable');
    await writeFile(plain, '#!/bin/sh\n');
    expect(await locateTrtexec({ explicitPath: plain })).toEqual({ reason: `KILN_TRTEXEC=${plain} is not executable` });
  });

  test('a program that is not trtexec, one that fails, one too old, one that hangs', async () => {
    const liar = await script(join(dir, 'liar'), 'echo "usage: something else"');
    expect(await locateTrtexec({ explicitPath: liar })).toEqual({
      reason: `trtexec at ${liar} printed no "[TensorRT vN]" banner, so its version is unknown (first line: "usage: something else")`,
    });
    const broken = await script(join(dir, 'broken'), 'echo "error while loading shared libraries: libnvinfer.so.10" >&2; exit 127');
    expect(await locateTrtexec({ explicitPath: broken })).toEqual({
      reason: `trtexec at ${broken} failed to run: exit status 127 (error while loading shared libraries: libnvinfer.so.10)`,
    });
    const old = await script(join(dir, 'old'), 'echo "&&&& RUNNING TensorRT.trtexec [TensorRT v8503] # trtexec --help"');
    expect(await locateTrtexec({ explicitPath: old })).toEqual({ reason: `trtexec at ${old} is TensorRT 8.5.3; Kiln needs TensorRT >= 8.6.0` });
    // A release nobody has read NVIDIA's sources of yet: Kiln does not guess its command line.
    const newer = await script(join(dir, 'newer'), 'echo "&&&& RUNNING TensorRT.trtexec [TensorRT v120000] [b7] # trtexec --help"');
    expect(await locateTrtexec({ explicitPath: newer })).toEqual({
      reason: expect.stringMatching(/^trtexec at .*newer\/trtexec is TensorRT 12\.0\.0: Expected a TensorRT version the trtexec contract covers \(8\.6 to 11\.1\) but received 12\.0\.0, newer than its releases; regenerate the table/),
    });
    const hang = await script(join(dir, 'hang'), 'exec sleep 30');
    expect(await locateTrtexec({ explicitPath: hang, timeoutMs: 300 })).toEqual({ reason: `trtexec at ${hang} failed to run: no answer within 300 ms` });
  });
});
