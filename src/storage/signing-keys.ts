/**
 * The farm's public keys in the store (`keys/<keyid>.json`): a worker adds the key it signs with
 * before its first build, and nothing removes one, so after a rotation the sets an older key signed
 * still verify. The store is shared by every API and worker process, so the API lists exactly the
 * keys that signed, wherever the workers run.
 */
import type { PublicKeyRecord } from '../core/provenance/signing-keys';
import type { ArtifactStore } from './artifact-store';
import { PreconditionFailedError } from './errors';
import { KEYS_PREFIX, signingKeyKey } from './layout';
import { readJson } from './read-json';

/** Adds the key unless it is listed already (its first `addedAt` is kept). */
export async function registerSigningKey(store: ArtifactStore, record: PublicKeyRecord): Promise<void> {
  const key = signingKeyKey(record.keyid);
  if (await store.head(key)) return;
  try {
    await store.put(key, JSON.stringify(record, null, 2), { ifNoneMatch: '*', contentType: 'application/json' });
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
  }
}

/** Every key that ever signed, oldest first. */
export async function listSigningKeys(store: ArtifactStore): Promise<PublicKeyRecord[]> {
  const records: PublicKeyRecord[] = [];
  for await (const object of store.list(KEYS_PREFIX)) {
    const record = await readJson<PublicKeyRecord>(store, object.key);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.addedAt.localeCompare(b.addedAt) || a.keyid.localeCompare(b.keyid));
}
