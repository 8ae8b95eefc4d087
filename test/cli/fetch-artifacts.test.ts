import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ResolveAnswer } from '../../src/cli/api-types';
import { KilnClient } from '../../src/cli/client';
import { fetchArtifacts } from '../../src/cli/fetch-artifacts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KEY = 'e'.repeat(64);

/** An engine whose header says TensorRT 10.9.0.34, written out by hand. */
const ENGINE = Buffer.alloc(4096, 7);
ENGINE.writeUInt32LE(0x74727466, 0);
ENGINE.writeUInt32LE(0, 4);
Buffer.from([10, 9, 0, 34]).copy(ENGINE, 24);
const CACHE = Buffer.from('timing cache bytes');
const files = [
  { name: 'engine.plan', sha256: sha(ENGINE), size: ENGINE.length, role: 'engine' },
  { name: 'timing.cache', sha256: sha(CACHE), size: CACHE.length, role: 'timing-cache' },
];
const manifest = { schema: 1, buildKey: KEY, primary: 'engine.plan', files };
const body: Record<string, Buffer> = { 'engine.plan': ENGINE, 'timing.cache': CACHE };

let server: http.Server;
let client: KilnClient;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const m = /^\/v1\/artifacts\/([0-9a-f]{64})\/(.+)$/.exec(req.url!);
    if (m && m[2] === 'manifest.json') {
      res.setHeader('Content-Type', 'application/json');
      return void res.end(JSON.stringify(manifest));
    }
    if (m && body[m[2]]) return void res.end(body[m[2]]);
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: `No ${req.url}` } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new KilnClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-fetch-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const answer = (overrides: Partial<ResolveAnswer> = {}): ResolveAnswer => ({
  model: 'm'.repeat(64),
  rung: 'same-cc',
  note: 'Engine built for compute capability 8.9',
  buildKey: KEY,
  target: 'trt10.9.0-sm89',
  primary: 'engine.plan',
  files: files.map((f) => ({ ...f, url: `/v1/artifacts/${KEY}/${f.name}` })),
  ...overrides,
});

test('an engine made by the requested TensorRT is written with its set and the manifest, last', async () => {
  const fetched = await fetchArtifacts(client, answer(), dir, { trt: '10.9.0' });
  expect(fetched.map((f) => [f.name, f.role, f.downloaded])).toEqual([
    ['engine.plan', 'engine', true],
    ['timing.cache', 'timing-cache', true],
  ]);
  expect((await readdir(dir)).sort()).toEqual(['engine.plan', 'manifest.json', 'timing.cache']);
  expect((await readFile(path.join(dir, 'engine.plan'))).equals(ENGINE)).toBe(true);
  expect(JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);
});

test('an engine made by another TensorRT is refused and nothing of it stays, nor a manifest', async () => {
  await expect(fetchArtifacts(client, answer(), dir, { trt: '10.8.0' })).rejects.toThrow(
    'Expected a plan made by TensorRT 10.8.0 but engine.plan was made by 10.9.0.34; TensorRT would refuse to load it',
  );
  expect(await readdir(dir)).toEqual([]);
});

test('an engine without the client\'s TensorRT version is not fetched at all', async () => {
  await expect(fetchArtifacts(client, answer(), dir)).rejects.toThrow('engine.plan is a TensorRT engine; give --trt so its plan header can be checked');
  expect(await readdir(dir)).toEqual([]);
});

test('a resolve answer that disagrees with the manifest downloads nothing', async () => {
  const lying = answer({ files: [{ ...files[0], sha256: sha(Buffer.from('other')), url: `/v1/artifacts/${KEY}/engine.plan` }] });
  await expect(fetchArtifacts(client, lying, dir, { trt: '10.9.0' })).rejects.toThrow(
    `Expected engine.plan to be sha256 ${sha(ENGINE)} (4096 bytes) as its manifest says, but resolve announced ${sha(Buffer.from('other'))} (4096 bytes)`,
  );
  expect(await readdir(dir)).toEqual([]);
});

test('a file name that would leave the directory is refused', async () => {
  const escaping = answer({ buildKey: undefined, files: [{ name: '../escape', sha256: sha(CACHE), size: CACHE.length, url: `/v1/artifacts/${KEY}/timing.cache` }] });
  await expect(fetchArtifacts(client, escaping, dir)).rejects.toThrow('Expected a plain file name from the server but received "../escape"');
  expect(await readdir(path.dirname(dir))).not.toContain('escape');
});
