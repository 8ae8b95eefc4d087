/**
 * A model larger than the upload's write-behind step (16 MiB, src/api/upload.ts): the datasyncs
 * issued while it arrives must leave the stored file byte for byte the upload, hashed once, and
 * the temp directory empty.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFarm, type TestFarm } from '../helpers/farm';
import { writeBigOnnx } from '../models/big-onnx';

describe('a large model upload', () => {
  let farm: TestFarm;
  let dir: string;

  beforeAll(async () => {
    farm = await startFarm();
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-upload-large-'));
  });
  afterAll(async () => {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores 40 MiB exactly as sent, with the sha256 of what was sent', async () => {
    const file = path.join(dir, 'big.onnx');
    await writeBigOnnx(file, 40 * 1024 * 1024);
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const response = await farm.request('POST', '/v1/models?name=big', { role: 'builder', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ sha256, size: bytes.length });

    const stored = await farm.request('GET', `/v1/models/${sha256}/file`, { role: 'reader' });
    expect(stored.status).toBe(200);
    const back = Buffer.from(await stored.arrayBuffer());
    expect(createHash('sha256').update(back).digest('hex')).toBe(sha256);
    expect(await readdir(farm.config.tmpDir).catch(() => [])).toEqual([]);
  });
});
