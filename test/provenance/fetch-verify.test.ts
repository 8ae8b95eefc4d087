/**
 * Signed provenance end to end: a real farm (API + CPU worker, real ONNX Runtime) publishes a set
 * with its DSSE envelope; `kiln fetch --verify` passes on it and fails when one byte of a file or
 * of the statement is changed in the store (consistently with the manifest, as someone who can
 * write the bucket would); `kiln verify DIR` does the same offline; a rotated key keeps older
 * sets verifiable.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { canonicalJson } from '../../src/core/canonical-json';
import type { Manifest } from '../../src/core/manifest';
import { PROVENANCE_FILE, STATEMENT_FILE, type KilnStatement } from '../../src/core/provenance/statement';
import type { ArtifactStore } from '../../src/storage/artifact-store';
import { createStore } from '../../src/storage/create-store';
import { artifactKey, manifestKey } from '../../src/storage/layout';
import { readManifest } from '../../src/storage/publish';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';
import { tinyConv, tinyMlp, writeModel } from '../models';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('signed provenance', () => {
  let farm: TestFarm;
  let target: string;
  let dir: string;
  let store: ArtifactStore;
  const quick = ['--option', 'benchmark.iterations=2', '--option', 'benchmark.warmup=1', '--option', 'benchmark.maxBatch=1'];

  async function kiln(args: string[], token = TOKENS.builder): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (c: string | Uint8Array) => (stdout += c.toString()) }, stderr: { write: (c: string | Uint8Array) => (stderr += c.toString()) } };
    const code = await run(['--url', farm.url, '--token', token, ...args], io);
    return { code, stdout, stderr };
  }

  /** Pushes a model and builds it for the worker's CPU target; the build key. */
  async function published(model: Buffer, name: string): Promise<string> {
    const file = await writeModel(model, dir, `${name}.onnx`);
    expect((await kiln(['models', 'push', file, '--name', name])).code).toBe(0);
    const built = await kiln(['build', name, '--target', target, ...quick, '--watch', '--json']);
    expect(built).toMatchObject({ code: 0 });
    const answer = JSON.parse(built.stdout);
    return (answer.builds ?? answer)[0].id ?? JSON.stringify(answer);
  }

  beforeAll(async () => {
    farm = await startFarm();
    target = (await farm.startWorker()).targets[0];
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-provenance-'));
    store = createStore(farm.config.store);
  });
  afterAll(async () => {
    await store?.close?.();
    await farm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let buildKey: string;

  it('publishes every set with a statement over all its files, signed by a key GET /v1/keys lists', async () => {
    buildKey = await published(tinyConv(), 'signed');
    const manifest = (await readManifest(store, buildKey))!;
    expect(manifest.files.map((f) => f.name)).toContain(PROVENANCE_FILE);

    const out = path.join(dir, 'signed');
    const fetched = await kiln(['fetch', 'signed', '--target', target, '-o', out, '--verify'], TOKENS.reader);
    expect(fetched.stderr).toBe('');
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toContain('provenance: verified, signed by key');

    const envelope = JSON.parse(await readFile(path.join(out, PROVENANCE_FILE), 'utf8'));
    const statementBytes = await readFile(path.join(out, STATEMENT_FILE));
    expect(statementBytes.equals(Buffer.from(envelope.payload, 'base64'))).toBe(true);
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(statementBytes.toString('utf8')) as KilnStatement;
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    // Every file of the set but the envelope itself, with its sha256.
    const signed = manifest.files.filter((f) => f.name !== PROVENANCE_FILE);
    expect(statement.subject).toEqual(expect.arrayContaining(signed.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } }))));
    expect(statement.subject).toHaveLength(signed.length);
    const { externalParameters, internalParameters, resolvedDependencies } = statement.predicate.buildDefinition;
    expect(sha256(canonicalJson(externalParameters.spec))).toBe(buildKey);
    expect(resolvedDependencies[0]).toEqual({ name: 'model', uri: `kiln:models/${manifest.spec.modelId}.onnx`, digest: { sha256: manifest.spec.modelId } });
    expect(internalParameters.toolchain).toEqual({ name: 'onnxruntime', version: manifest.worker.toolchains.onnxruntime });
    expect(internalParameters.settings).toMatchObject({ graphOptimizationLevel: expect.any(String) });

    const keys = await (await farm.request('GET', '/v1/keys', { role: 'reader' })).json();
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0].keyid).toBe(envelope.signatures[0].keyid);
    expect(sha256(createPublicKey(keys.keys[0].publicKey).export({ type: 'spki', format: 'der' }))).toBe(keys.keys[0].keyid);
    // The private key stays private.
    expect((await stat(farm.config.signingKeyFile)).mode & 0o777).toBe(0o600);

    expect(await kiln(['verify', out], TOKENS.reader)).toMatchObject({ code: 0, stderr: '' });
  });

  it('kiln verify fails naming the file when one byte of a file, or of the statement, changed on disk', async () => {
    const out = path.join(dir, 'signed');
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    for (const name of [manifest.primary, STATEMENT_FILE]) {
      const file = path.join(out, name);
      const original = await readFile(file);
      const changed = Buffer.from(original);
      changed[changed.length >> 1] ^= 1;
      await writeFile(file, changed);
      const result = await kiln(['verify', out], TOKENS.reader);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${name}:`);
      await writeFile(file, original);
    }
    const stray = path.join(out, 'extra.bin');
    await writeFile(stray, 'not built by the farm');
    expect((await kiln(['verify', out], TOKENS.reader)).stderr).toContain('extra.bin: not a subject of the signed statement');
    await rm(stray);
    expect((await kiln(['verify', out], TOKENS.reader)).code).toBe(0);
  });

  /** Rewrites one file of the published set in the store, and its manifest to match, as a bucket writer could. */
  async function tamperInStore(key: string, name: string, change: (bytes: Buffer) => Buffer): Promise<() => Promise<void>> {
    const manifest = (await readManifest(store, key))!;
    const entry = manifest.files.find((f) => f.name === name)!;
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.get(artifactKey(key, entry))).body) chunks.push(chunk as Buffer);
    const changed = change(Buffer.concat(chunks));
    const forged = { ...entry, sha256: sha256(changed), size: changed.length };
    await store.put(artifactKey(key, forged), changed);
    const write = async (m: Manifest) => {
      await store.put(manifestKey(key), JSON.stringify(m, null, 2));
      expect((await farm.request('POST', '/v1/admin/reindex')).status).toBe(200);
    };
    await write({ ...manifest, files: manifest.files.map((f) => (f.name === name ? forged : f)) });
    return () => write(manifest);
  }

  it('kiln fetch --verify fails when one byte of a file or of the statement was changed in the store', async () => {
    const manifest = (await readManifest(store, buildKey))!;
    const flip = (bytes: Buffer) => {
      const out = Buffer.from(bytes);
      out[out.length >> 1] ^= 1;
      return out;
    };

    // Resolve answers are cached for a moment per query string: each fetch names the model another way.
    let restore = await tamperInStore(buildKey, manifest.primary, flip);
    const out = path.join(dir, 'tampered');
    let result = await kiln(['fetch', 'signed@1', '--target', target, '-o', out, '--verify'], TOKENS.reader);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${manifest.primary.replace(/\./g, '\\.')}: sha256 [0-9a-f]{64} but the signed statement says ${manifest.files.find((f) => f.name === manifest.primary)!.sha256}`));
    await restore();

    // One byte of the signed statement: the envelope's payload, re-encoded.
    restore = await tamperInStore(buildKey, PROVENANCE_FILE, (bytes) => {
      const envelope = JSON.parse(bytes.toString('utf8'));
      envelope.payload = flip(Buffer.from(envelope.payload, 'base64')).toString('base64');
      return Buffer.from(JSON.stringify(envelope));
    });
    result = await kiln(['fetch', manifest.spec.modelId, '--target', target, '-o', path.join(dir, 'tampered-statement'), '--verify'], TOKENS.reader);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${PROVENANCE_FILE}: Expected a valid signature by key`);
    await restore();
  });

  it('keeps sets signed before a key rotation verifiable, and lists both keys', async () => {
    const oldKey = createPublicKey(await readFile(farm.config.signingKeyFile, 'utf8'));
    await farm.workers[0].stop();
    const rotated = await farm.startWorker({}, { KILN_SIGNING_KEY_FILE: path.join(farm.home, 'signing-key-2.pem') });
    expect(rotated.targets).toContain(target);
    const newKey = await published(tinyMlp(), 'after-rotation');
    expect(newKey).not.toBe(buildKey);

    const keys = await (await farm.request('GET', '/v1/keys', { role: 'reader' })).json();
    expect(keys.keys).toHaveLength(2);
    const keysFile = path.join(dir, 'farm-keys.json');
    expect(await kiln(['keys', '-o', keysFile], TOKENS.reader)).toMatchObject({ code: 0 });

    const before = path.join(dir, 'before-rotation');
    const after = path.join(dir, 'after-rotation');
    expect((await kiln(['fetch', 'signed', '--target', target, '-o', before], TOKENS.reader)).code).toBe(0);
    expect((await kiln(['fetch', 'after-rotation', '--target', target, '-o', after], TOKENS.reader)).code).toBe(0);
    const keyidOf = async (d: string) => JSON.parse(await readFile(path.join(d, PROVENANCE_FILE), 'utf8')).signatures[0].keyid as string;
    expect(await keyidOf(before)).not.toBe(await keyidOf(after));
    expect((await kiln(['verify', before, '--key', keysFile])).code).toBe(0);
    expect((await kiln(['verify', after, '--key', keysFile])).code).toBe(0);

    // Given only the old key (as PEM), the newer set is refused, naming the key that signed it.
    const oldPem = path.join(dir, 'old-key.pem');
    await writeFile(oldPem, oldKey.export({ type: 'spki', format: 'pem' }));
    expect((await kiln(['verify', before, '--key', oldPem])).code).toBe(0);
    const refused = await kiln(['verify', after, '--key', oldPem]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`signed by ${await keyidOf(after)}`);
  });
});
