/**
 * The provenance of a fetched artifact set, on disk: the signed envelope (a file of the set), the
 * statement decoded from it that `kiln fetch` saves beside the files, and the farm's keys file.
 * `kiln fetch --verify` and `kiln verify DIR` check a directory through here with the check of
 * src/core/provenance (docs/provenance.md).
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseKeys } from '../core/provenance/signing-keys';
import { PROVENANCE_FILE, STATEMENT_FILE } from '../core/provenance/statement';
import { ProvenanceError, verifyProvenance, type VerifiedProvenance } from '../core/provenance/verify';

/** The farm's public keys as `kiln fetch --verify` got them (GET /v1/keys), for `kiln verify DIR` later. */
export const KEYS_FILE = 'farm-keys.json';
/** Saved beside the files by `kiln fetch`, not part of the signed set. */
const NOT_SIGNED = new Set([PROVENANCE_FILE, STATEMENT_FILE, KEYS_FILE, 'manifest.json']);

/** Writes the statement signed in the directory's envelope beside it; false when the set has no envelope. */
export async function saveStatement(dir: string): Promise<boolean> {
  const envelope = await readEnvelope(dir);
  if (envelope === null) return false;
  const payload = (envelope as { payload?: unknown })?.payload;
  if (typeof payload !== 'string') throw new ProvenanceError([`${PROVENANCE_FILE}: Expected a DSSE envelope with a base64 payload but received none`]);
  await writeAtomically(path.join(dir, STATEMENT_FILE), Buffer.from(payload, 'base64'));
  return true;
}

export interface VerifyDirOptions {
  /** Check only these files (those just fetched); (Default: every file in the directory but the envelope, statement, keys file and manifest). */
  names?: string[];
}

/** Checks the directory against its signed statement; throws ProvenanceError listing every problem. */
export async function verifyDir(dir: string, keys: ReadonlyMap<string, KeyObject>, options: VerifyDirOptions = {}): Promise<VerifiedProvenance> {
  const envelope = await readEnvelope(dir);
  if (envelope === null) {
    throw new ProvenanceError([`${PROVENANCE_FILE}: missing in ${dir}; sets published before Kiln signed provenance have none (rebuild to get one)`]);
  }
  const statement = await readFile(path.join(dir, STATEMENT_FILE)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const names = options.names ?? (await listFiles(dir));
  const files = [];
  for (const name of names.filter((n) => !NOT_SIGNED.has(n))) files.push({ name, sha256: await sha256File(path.join(dir, name)) });
  return verifyProvenance({ envelope, keys, files, statement });
}

/** Keys from a file: the JSON of GET /v1/keys (as `kiln keys -o` or `kiln fetch --verify` save it) or one PEM public key. */
export async function readKeysFile(file: string): Promise<Map<string, KeyObject>> {
  return parseKeys(await readFile(file, 'utf8'), file);
}

export async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.part`;
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function readEnvelope(dir: string): Promise<unknown | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, PROVENANCE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ProvenanceError([`${PROVENANCE_FILE}: Expected a JSON DSSE envelope but it does not parse: ${(err as Error).message}`]);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
