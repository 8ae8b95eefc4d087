import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KilnApiError, KilnClient } from '../../src/cli/client';
import { downloadVerified, DownloadVerificationError } from '../../src/cli/download';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const GOOD = Buffer.from('the artifact bytes, exactly as published\n'.repeat(1000));
const CORRUPT = Buffer.from(GOOD);
CORRUPT[1234] ^= 0xff;

/** A tiny file server: good and corrupt bytes, a redirect to another origin, and an error. */
let server: http.Server;
let other: http.Server;
let base: string;
let otherBase: string;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let dir: string;

function listen(s: http.Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  other = http.createServer((req, res) => {
    seen.push({ url: `other${req.url}`, headers: req.headers });
    res.end(GOOD);
  });
  otherBase = await listen(other);
  server = http.createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    if (req.url === '/good') return void res.end(GOOD);
    if (req.url === '/corrupt') return void res.end(CORRUPT);
    if (req.url === '/long') return void res.end(Buffer.concat([GOOD, Buffer.from('extra')]));
    if (req.url === '/announced') {
      res.setHeader('X-Kiln-Sha256', sha(GOOD));
      return void res.end(GOOD);
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: `${otherBase}/presigned?X-Amz-Signature=abc` });
      return void res.end();
    }
    if (req.url === '/relative-redirect') {
      res.writeHead(307, { Location: '/good' });
      return void res.end();
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: `No file ${req.url}` } }));
  });
  base = await listen(server);
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => other.close(r));
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-download-'));
  seen.length = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const client = () => new KilnClient({ url: base, token: 'secret-token-0123456789' });

test('a file whose sha256 and size match is renamed into place', async () => {
  const dest = path.join(dir, 'model.onnx');
  const result = await downloadVerified(client(), { url: '/good', dest, sha256: sha(GOOD), size: GOOD.length });
  expect(result).toEqual({ path: dest, sha256: sha(GOOD), size: GOOD.length, downloaded: true });
  expect((await readFile(dest)).equals(GOOD)).toBe(true);
  expect(await readdir(dir)).toEqual(['model.onnx']);
  expect(seen[0].headers.authorization).toBe('Bearer secret-token-0123456789');
});

test('corrupt bytes fail loudly and leave no file, temp or final', async () => {
  const dest = path.join(dir, 'model.onnx');
  const attempt = downloadVerified(client(), { url: '/corrupt', dest, sha256: sha(GOOD), size: GOOD.length });
  await expect(attempt).rejects.toThrow(DownloadVerificationError);
  await expect(attempt).rejects.toThrow(`Expected sha256 ${sha(GOOD)} for model.onnx but received ${sha(CORRUPT)}; the download was deleted`);
  expect(await readdir(dir)).toEqual([]);
});

test('more bytes than announced fail as soon as they pass the size, and leave nothing', async () => {
  const dest = path.join(dir, 'engine.plan');
  await expect(downloadVerified(client(), { url: '/long', dest, sha256: sha(GOOD), size: GOOD.length })).rejects.toThrow(
    new RegExp(`Expected ${GOOD.length} bytes for engine.plan but received more`),
  );
  expect(await readdir(dir)).toEqual([]);
});

test('a redirect to another origin is followed without the Kiln token', async () => {
  const dest = path.join(dir, 'model.onnx');
  await downloadVerified(client(), { url: '/redirect', dest, sha256: sha(GOOD), size: GOOD.length });
  expect(seen.map((s) => s.url)).toEqual(['/redirect', 'other/presigned?X-Amz-Signature=abc']);
  expect(seen[1].headers.authorization).toBeUndefined();
  expect((await readFile(dest)).equals(GOOD)).toBe(true);
});

test('a relative redirect on the same origin keeps the token', async () => {
  await downloadVerified(client(), { url: '/relative-redirect', dest: path.join(dir, 'f'), sha256: sha(GOOD), size: GOOD.length });
  expect(seen.map((s) => [s.url, s.headers.authorization])).toEqual([
    ['/relative-redirect', 'Bearer secret-token-0123456789'],
    ['/good', 'Bearer secret-token-0123456789'],
  ]);
});

test('a failing content check refuses the file and removes it', async () => {
  const dest = path.join(dir, 'engine.plan');
  const check = jest.fn(async () => {
    throw new Error('not a plan');
  });
  await expect(downloadVerified(client(), { url: '/good', dest, sha256: sha(GOOD), size: GOOD.length, check })).rejects.toThrow('not a plan');
  expect(check).toHaveBeenCalledTimes(1);
  expect(await readdir(dir)).toEqual([]);
});

test('the sha256 the server announces must agree with the expected one', async () => {
  const wrong = sha(CORRUPT);
  await expect(downloadVerified(client(), { url: '/announced', dest: path.join(dir, 'f'), sha256: wrong, size: GOOD.length })).rejects.toThrow(
    `Expected sha256 ${wrong} for f but the server announced ${sha(GOOD)}`,
  );
  expect(await readdir(dir)).toEqual([]);
});

test('without an expected sha256 the announced one is verified; with neither the download is refused', async () => {
  const result = await downloadVerified(client(), { url: '/announced', dest: path.join(dir, 'timing.cache') });
  expect(result.sha256).toBe(sha(GOOD));
  await expect(downloadVerified(client(), { url: '/good', dest: path.join(dir, 'other') })).rejects.toThrow(/No sha256 to verify other against/);
  expect(await readdir(dir)).toEqual(['timing.cache']);
});

test('a file already in place with the same content is not downloaded again', async () => {
  const dest = path.join(dir, 'model.onnx');
  await writeFile(dest, GOOD);
  const result = await downloadVerified(client(), { url: '/good', dest, sha256: sha(GOOD), size: GOOD.length });
  expect(result.downloaded).toBe(false);
  expect(seen).toEqual([]);
});

test('an API error answer becomes a KilnApiError with its message', async () => {
  const attempt = downloadVerified(client(), { url: '/missing', dest: path.join(dir, 'x'), sha256: sha(GOOD), size: 1 });
  await expect(attempt).rejects.toThrow(KilnApiError);
  await expect(attempt).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'No file /missing' });
  expect(await readdir(dir)).toEqual([]);
});
