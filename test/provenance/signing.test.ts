/**
 * The signing pieces on their own: DSSE's pre-authentication encoding (the spec's own example),
 * signatures that fail on any changed byte, and the farm key made on first start (0600, reused).
 */
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE, openEnvelope, pae, signEnvelope } from '../../src/core/provenance/dsse';
import { keyIdOf, parseKeys, publicKeyRecord } from '../../src/core/provenance/signing-keys';
import { ensureSigningKey } from '../../src/signing-key';

describe('DSSE envelopes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-signing-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('encodes PAE as the DSSE spec does', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // Lengths count bytes, not characters.
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });

  it('opens an envelope signed by a known key and refuses any changed byte or unknown key', () => {
    const key = ensureSigningKey({ signingKeyFile: path.join(dir, 'a.pem') });
    const other = ensureSigningKey({ signingKeyFile: path.join(dir, 'b.pem') });
    const keys = new Map([[keyIdOf(key), createPublicKey(key)]]);
    const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const envelope = signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, key);
    expect(envelope.signatures[0].keyid).toBe(keyIdOf(key));
    expect(openEnvelope(envelope, keys)).toEqual({ payload, keyid: keyIdOf(key) });

    const changed = Buffer.from(payload);
    changed[5] ^= 1;
    expect(() => openEnvelope({ ...envelope, payload: changed.toString('base64') }, keys)).toThrow(`Expected a valid signature by key ${keyIdOf(key)} but the signature does not match`);
    // The payload type is signed too.
    expect(() => openEnvelope({ ...envelope, payloadType: 'text/plain' }, keys, 'text/plain')).toThrow('signature does not match');
    expect(() => openEnvelope(signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, other), keys)).toThrow(`but the envelope is signed by ${keyIdOf(other)}`);
    expect(() => openEnvelope({ payload: 'x' }, keys)).toThrow('Expected a DSSE envelope');
  });

  it('makes the farm key once, mode 0600, and reuses it', async () => {
    const file = path.join(dir, 'home', 'signing-key.pem');
    const a = ensureSigningKey({ signingKeyFile: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(keyIdOf(ensureSigningKey({ signingKeyFile: file }))).toBe(keyIdOf(a));

    const record = publicKeyRecord(a, '2026-12-02T00:00:00.000Z');
    expect(record).toMatchObject({ keyid: keyIdOf(a), algorithm: 'ed25519', publicKey: expect.stringContaining('BEGIN PUBLIC KEY') });
    expect([...parseKeys(JSON.stringify({ keys: [record] }), 'keys.json').keys()]).toEqual([keyIdOf(a)]);
    expect([...parseKeys(record.publicKey, 'key.pem').keys()]).toEqual([keyIdOf(a)]);
    expect(() => parseKeys('{"nokeys":1}', 'keys.json')).toThrow('Expected { "keys": [...] } (as GET /v1/keys answers) in keys.json but received no keys array');

    const notAKey = path.join(dir, 'bad.pem');
    await writeFile(notAKey, 'not a key');
    expect(() => ensureSigningKey({ signingKeyFile: notAKey })).toThrow(`Expected an Ed25519 private key (PKCS#8 PEM) in KILN_SIGNING_KEY_FILE=${notAKey} but it does not parse`);
    expect(await readFile(notAKey, 'utf8')).toBe('not a key');
  });
});
