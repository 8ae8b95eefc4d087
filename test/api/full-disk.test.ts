/**
 * A full disk, for real: the farm's KILN_HOME (temp files and the filesystem store) on a 4 MiB
 * tmpfs. An upload that does not fit is refused with 507 and a message that says what to do,
 * and leaves nothing behind; a build whose worker cannot write fails saying so, publishes
 * nothing, and succeeds on retry once there is space. Mounting needs root: without it the suite
 * is skipped, and says so.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFarm, type TestFarm } from '../helpers/farm';
import { mobilenetV2, tinyConv } from '../models';

const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'kiln-full-disk-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'ignore' });
  mounted = true;
} catch {
  rmSync(mountPoint, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.warn(`full-disk suite skipped: cannot mount a tmpfs at ${mountPoint} (needs root)`);
}
const suite = mounted ? describe : describe.skip;

/** Writes zeros until the disk is full; returns the file, to delete for space. */
function fillDisk(): string {
  const file = path.join(mountPoint, 'filler');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(16 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

suite('a full disk', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_HOME: mountPoint, KILN_ATTEMPTS: '1' } });
  });
  afterAll(async () => {
    await farm?.stop();
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const upload = (body: Buffer, name: string) =>
    farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body, headers: { 'content-type': 'application/octet-stream' } });

  it('refuses an upload that does not fit with 507, says what to do, and keeps nothing', async () => {
    const response = await upload(mobilenetV2({ widthMultiplier: 0.5 }), 'too-big');
    expect(response.status).toBe(507);
    const { error } = await response.json();
    expect(error.code).toBe('insufficient_storage');
    expect(error.message).toBe(
      "Kiln's disk is full: no space left to write the upload to a temp file (ENOSPC). Nothing was stored; free space on the disk of KILN_HOME (temp files) and KILN_DATA_DIR (the store), then push again",
    );
    expect((await (await farm.request('GET', '/v1/models', { role: 'reader' })).json()).models).toEqual([]);
    expect(readdirSync(path.join(mountPoint, 'tmp'))).toEqual([]);
    expect((await upload(tinyConv(), 'tiny')).status).toBe(201);
  });

  it('fails a build that cannot write, saying so, publishes nothing, and builds on retry once there is space', async () => {
    const worker = await farm.startWorker();
    const filler = fillDisk();
    const submitted = await (
      await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'tiny', targets: [worker.targets[0]], options: { benchmark: { maxBatch: 1, warmup: 1, iterations: 2 } } } })
    ).json();
    const id: string = submitted.builds[0].id;
    const until = async (states: string[]) => {
      for (;;) {
        const record = await (await farm.request('GET', `/v1/builds/${id}`, { role: 'reader' })).json();
        if (states.includes(record.state)) return record;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const failed = await until(['failed', 'succeeded']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/^No space left on a disk this build writes to \(ENOSPC: no space left on device, .*\): free space on the worker \(its KILN_HOME\) and the store \(KILN_DATA_DIR\), then retry the build\. Nothing was published$/);
    expect(failed.inputError).toBeUndefined(); // a full disk is not the input's fault: retry is offered
    const resolve = await (await farm.request('GET', `/v1/resolve?model=tiny&target=${worker.targets[0]}`, { role: 'reader' })).json();
    expect(resolve.rung).toBe('onnx');

    rmSync(filler);
    expect((await farm.request('POST', `/v1/builds/${id}/retry`, { role: 'builder' })).status).toBe(202);
    expect((await until(['failed', 'succeeded'])).state).toBe('succeeded');
  }, 60_000);
});
