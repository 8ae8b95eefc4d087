/** Malformed uploads are answered 4xx with a message that says what was wrong, and nothing is stored. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { constantNodeExternal, tinyMlp, withExternalData } from '../models';
import { startFarm, type TestFarm } from '../helpers/farm';

describe('model uploads', () => {
  let farm: TestFarm;
  const LIMIT = 64 * 1024;

  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_MAX_MODEL_BYTES: String(LIMIT) } });
  });
  afterAll(() => farm.stop());

  const upload = (body: Uint8Array | string, query = '') =>
    farm.request('POST', `/v1/models${query}`, { role: 'builder', body, headers: { 'content-type': 'application/octet-stream' } });

  async function expectNothingStored(): Promise<void> {
    const keys: string[] = [];
    for await (const object of farm.api.ctx.store.list('models/')) keys.push(object.key);
    expect(keys).toEqual([]);
    const tmp = await readdir(farm.config.tmpDir).catch(() => []);
    expect(tmp).toEqual([]);
  }

  const random = (n: number, seed: number) => {
    const out = new Uint8Array(n);
    let s = seed;
    for (let i = 0; i < n; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    return out;
  };

  it.each([
    ['random bytes', () => random(4096, 1), 'not-onnx'],
    ['more random bytes', () => random(1000, 7), 'not-onnx'],
    ['a text file', () => 'hello, this is not a model\n', 'not-onnx'],
    ['an empty body', () => new Uint8Array(0), 'empty'],
    ['a truncated model', () => tinyMlp().subarray(0, Math.floor(tinyMlp().length * 0.6)), 'truncated'],
    ['external-data initializers', () => withExternalData(), 'external-data'],
    ['external data in a Constant node', () => constantNodeExternal(), 'external-data'],
  ])('rejects %s with 422 and stores nothing', async (_what, body, reason) => {
    const response = await upload(body());
    expect(response.status).toBe(422);
    const { error } = await response.json();
    expect(error.code).toBe('invalid_model');
    expect(error.details.reason).toBe(reason);
    expect(error.message.length).toBeGreaterThan(20);
    await expectNothingStored();
  });

  it('explains why external data is refused and how to fix it', async () => {
    const { error } = await (await upload(withExternalData())).json();
    expect(error.message).toMatch(/external/i);
    expect(error.message).toMatch(/save_as_external_data=False/);
  });

  it('rejects an upload over the limit with 413, declared or streamed', async () => {
    const big = new Uint8Array(LIMIT + 1);
    const declared = await upload(big);
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.message).toMatch(/over the limit of 65536 bytes/);

    // Chunked (no Content-Length): cut off while streaming.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(16 * 1024));
        controller.close();
      },
    });
    const streamed = await fetch(`${farm.url}/v1/models`, {
      method: 'POST',
      headers: { authorization: 'Bearer builder-token-0123456789abcdef', 'content-type': 'application/octet-stream' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    await expectNothingStored();
  });

  it('rejects a bad label without storing the model', async () => {
    const response = await upload(tinyMlp(), '?name=Bad%20Name');
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/model name/);
    await expectNothingStored();
  });

  it('accepts multipart uploads with the label in form fields', async () => {
    const form = new FormData();
    form.set('name', 'mlp');
    form.set('file', new Blob([tinyMlp()]), 'mlp.onnx');
    const response = await fetch(`${farm.url}/v1/models`, { method: 'POST', headers: { authorization: 'Bearer builder-token-0123456789abcdef' }, body: form });
    expect(response.status).toBe(201);
    const record: any = await response.json();
    expect(record.labels).toEqual(['mlp@1']);
    const stored = await farm.api.ctx.store.head(`models/${record.sha256}.onnx`);
    expect(stored?.size).toBe(tinyMlp().length);
    expect(await readdir(path.join(farm.config.tmpDir))).toEqual([]);
  });
});
