/**
 * The farm's Ed25519 signing key, which signs every artifact set's provenance (docs/provenance.md).
 * Like the admin token it is made on first start when the configured file does not exist, kept
 * with mode 0600, and reused afterwards. Rotating it is replacing the file: sets signed before stay
 * verifiable because every key that signed is kept in the store's key list (GET /v1/keys).
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KilnConfig } from './config';

/** The signing key at `config.signingKeyFile`, made there (0600) when the file does not exist. */
export function ensureSigningKey(config: Pick<KilnConfig, 'signingKeyFile'>): KeyObject {
  const file = config.signingKeyFile;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    pem = createKeyFile(file);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`Expected an Ed25519 private key (PKCS#8 PEM) in KILN_SIGNING_KEY_FILE=${file} but it does not parse: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`Expected an Ed25519 private key in KILN_SIGNING_KEY_FILE=${file} but received a ${key.asymmetricKeyType} key`);
  }
  // A key others can read is a key others can sign with: tighten what an operator copied in
  // loosely. A read-only mount (a Kubernetes secret) cannot be changed; its mode is the mount's.
  if ((statSync(file).mode & 0o077) !== 0) {
    try {
      chmodSync(file, 0o600);
    } catch {
      /* the mount decides */
    }
  }
  return key;
}

/**
 * Writes a new key beside `file` and links it into place, which fails if the file appeared in
 * between: the API and a worker starting together agree on one key, whichever made it.
 */
function createKeyFile(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const temp = `${file}.${randomBytes(6).toString('hex')}.new`;
  writeFileSync(temp, pem, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return pem;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(temp, { force: true });
  }
}
