/**
 * After `kiln fetch`: save the statement signed in the set's envelope beside the files and, with
 * --verify, check the signature and every fetched file against it. The keys are the ones given
 * (--key) or the farm's (GET /v1/keys), saved as farm-keys.json for `kiln verify DIR` later.
 */
import path from 'node:path';
import type { KeysDocument } from '../core/provenance/signing-keys';
import { parseKeys } from '../core/provenance/signing-keys';
import { ProvenanceError } from '../core/provenance/verify';
import type { CliContext } from './context';
import { CommandFailed } from './errors';
import type { FetchedFile } from './fetch-artifacts';
import { KEYS_FILE, readKeysFile, saveStatement, verifyDir, writeAtomically } from './provenance-files';

export interface ProvenanceSummary {
  keyid: string;
  buildKey: string;
  subjects: number;
}

export async function checkFetched(ctx: CliContext, dir: string, files: FetchedFile[], verify: { key?: string } | null): Promise<ProvenanceSummary | null> {
  const saved = await saveStatement(dir).catch((err) => (verify ? Promise.reject(err) : false));
  if (!verify) return null;
  if (!saved) {
    throw new CommandFailed(1, `Expected a signed provenance (provenance.dsse.json) with the set in ${dir} but the farm published none: the set predates signing; rebuild it to get one`);
  }
  let keys;
  if (verify.key) keys = await readKeysFile(verify.key);
  else {
    const doc = await ctx.client.json<KeysDocument>('GET', '/v1/keys');
    keys = parseKeys(JSON.stringify(doc), `${ctx.options.url}/v1/keys`);
    await writeAtomically(path.join(dir, KEYS_FILE), JSON.stringify(doc, null, 2) + '\n');
  }
  try {
    const verified = await verifyDir(dir, keys, { names: files.map((f) => f.name) });
    return { keyid: verified.keyid, buildKey: verified.buildKey, subjects: verified.statement.subject.length };
  } catch (err) {
    if (err instanceof ProvenanceError) throw new CommandFailed(1, `${err.message}\n  (in ${dir})`);
    throw err;
  }
}
