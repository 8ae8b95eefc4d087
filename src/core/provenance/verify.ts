/**
 * Verifying an artifact set against its provenance: the envelope's signature by a farm key, the
 * statement saved beside it (byte for byte the signed one), the build key (the sha256 of the
 * canonical spec it names), and every file against the statement's subjects. Shared by
 * `kiln fetch --verify` and `kiln verify DIR`; every problem is reported, each naming its file.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import { sha256Hex } from '../hash';
import { EnvelopeError, openEnvelope } from './dsse';
import { PROVENANCE_FILE, SLSA_PROVENANCE_V1, STATEMENT_FILE, STATEMENT_TYPE, type KilnStatement } from './statement';

export class ProvenanceError extends Error {
  override name = 'ProvenanceError';
  constructor(readonly problems: string[]) {
    super(`Provenance check failed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface ProvenanceCheck {
  /** The envelope as parsed JSON. */
  envelope: unknown;
  /** keyid -> Ed25519 public key. */
  keys: ReadonlyMap<string, KeyObject>;
  /** The files to check (name + sha256 of the bytes at hand), the envelope and statement excepted. */
  files: { name: string; sha256: string }[];
  /** The statement file saved beside the files, when there is one: it must be the signed bytes. */
  statement?: Buffer;
}

export interface VerifiedProvenance {
  statement: KilnStatement;
  keyid: string;
  buildKey: string;
}

export function verifyProvenance(check: ProvenanceCheck): VerifiedProvenance {
  let opened;
  try {
    opened = openEnvelope(check.envelope, check.keys);
  } catch (err) {
    if (err instanceof EnvelopeError) throw new ProvenanceError([`${PROVENANCE_FILE}: ${err.message}`]);
    throw err;
  }
  const problems: string[] = [];
  if (check.statement && !check.statement.equals(opened.payload)) {
    problems.push(`${STATEMENT_FILE}: differs from the statement signed in ${PROVENANCE_FILE} (changed after it was signed)`);
  }
  const statement = parseStatement(opened.payload);
  const external = statement.predicate.buildDefinition.externalParameters;
  const specKey = sha256Hex(canonicalJson(external.spec));
  if (specKey !== external.buildKey) {
    problems.push(`${PROVENANCE_FILE}: the build key ${external.buildKey} is not the sha256 of the spec it names (${specKey})`);
  }

  const subjects = new Map(statement.subject.map((s) => [s.name ?? '', s.digest.sha256]));
  const seen = new Set<string>();
  for (const file of check.files) {
    seen.add(file.name);
    const signed = subjects.get(file.name);
    if (signed === undefined) problems.push(`${file.name}: not a subject of the signed statement (it lists ${[...subjects.keys()].join(', ')})`);
    else if (signed !== file.sha256) problems.push(`${file.name}: sha256 ${file.sha256} but the signed statement says ${signed}`);
  }
  for (const name of subjects.keys()) {
    if (!seen.has(name)) problems.push(`${name}: a subject of the signed statement, missing here`);
  }
  if (problems.length > 0) throw new ProvenanceError(problems);
  return { statement, keyid: opened.keyid, buildKey: external.buildKey };
}

function parseStatement(payload: Buffer): KilnStatement {
  let statement: KilnStatement;
  try {
    statement = JSON.parse(payload.toString('utf8')) as KilnStatement;
  } catch (err) {
    throw new ProvenanceError([`${PROVENANCE_FILE}: Expected a JSON statement as the signed payload but it does not parse: ${(err as Error).message}`]);
  }
  const subjectsOk = Array.isArray(statement?.subject) && statement.subject.every((s) => typeof s?.name === 'string' && typeof s.digest?.sha256 === 'string');
  const external = statement?.predicate?.buildDefinition?.externalParameters;
  if (statement?._type !== STATEMENT_TYPE || statement.predicateType !== SLSA_PROVENANCE_V1 || !subjectsOk || typeof external?.buildKey !== 'string' || !external.spec) {
    throw new ProvenanceError([
      `${PROVENANCE_FILE}: Expected an in-toto statement (${STATEMENT_TYPE}) with a SLSA provenance predicate (${SLSA_PROVENANCE_V1}), named subjects and a build spec, but received something else`,
    ]);
  }
  return statement;
}
