/**
 * The farm's signing keys as everyone sees them: Ed25519 public keys named by a key id (the sha256
 * of the key's DER SubjectPublicKeyInfo), listed by `GET /v1/keys` and saved by `kiln keys`. A
 * rotated-out key stays listed, so artifact sets it signed stay verifiable.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../hash';

export interface PublicKeyRecord {
  keyid: string;
  algorithm: 'ed25519';
  /** SPKI PEM. */
  publicKey: string;
  /** When the farm first signed with it (ISO 8601). */
  addedAt: string;
}

/** `GET /v1/keys`, and the keys file `kiln keys` and `kiln fetch --verify` save. */
export interface KeysDocument {
  keys: PublicKeyRecord[];
}

/** The key id of a public key, or of the public half of a private key. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }));
}

export function publicKeyRecord(privateKey: KeyObject, addedAt: string): PublicKeyRecord {
  const pub = createPublicKey(privateKey);
  if (pub.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`Expected an Ed25519 signing key but received a ${pub.asymmetricKeyType} key`);
  }
  return { keyid: keyIdOf(pub), algorithm: 'ed25519', publicKey: pub.export({ type: 'spki', format: 'pem' }).toString(), addedAt };
}

export class KeysFileError extends Error {
  override name = 'KeysFileError';
}

/**
 * Verification keys from a keys file: the JSON of `GET /v1/keys` (every key the farm used) or one
 * PEM public key. Each key id is recomputed from the key, never taken on trust from the file.
 */
export function parseKeys(text: string, source: string): Map<string, KeyObject> {
  const pems: string[] = [];
  if (text.trimStart().startsWith('{')) {
    let doc: Partial<KeysDocument>;
    try {
      doc = JSON.parse(text) as Partial<KeysDocument>;
    } catch (err) {
      throw new KeysFileError(`Expected JSON keys in ${source} but it does not parse: ${(err as Error).message}`);
    }
    if (!Array.isArray(doc.keys)) throw new KeysFileError(`Expected { "keys": [...] } (as GET /v1/keys answers) in ${source} but received no keys array`);
    for (const record of doc.keys) pems.push(String(record?.publicKey ?? ''));
  } else {
    pems.push(text);
  }
  const keys = new Map<string, KeyObject>();
  for (const pem of pems) {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new KeysFileError(`Expected Ed25519 public keys (PEM) in ${source} but one does not parse: ${(err as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new KeysFileError(`Expected Ed25519 public keys in ${source} but received a ${key.asymmetricKeyType} key`);
    keys.set(keyIdOf(key), key);
  }
  if (keys.size === 0) throw new KeysFileError(`Expected at least one public key in ${source} but it holds none`);
  return keys;
}
