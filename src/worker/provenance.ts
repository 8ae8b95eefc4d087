/**
 * The publish step that signs: from the files of an artifact set as uploaded, the provenance
 * statement (src/core/provenance) is built, signed with the farm key into a DSSE envelope, and
 * written into the work dir, to be uploaded with the set before its manifest (docs/provenance.md).
 */
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildSpec } from '../core/build-spec';
import type { ManifestFile, WorkerFacts } from '../core/manifest';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../core/provenance/dsse';
import { buildStatement, PROVENANCE_FILE, statementPayload, type DeviceFacts, type ToolchainInvocation } from '../core/provenance/statement';
import { publicKeyRecord } from '../core/provenance/signing-keys';
import type { ArtifactStore } from '../storage/artifact-store';
import type { ArtifactFileInput } from '../storage/publish';
import { registerSigningKey } from '../storage/signing-keys';

const KILN_VERSION: string = require('../../package.json').version;

/** The farm key a worker signs with, listed in the store (GET /v1/keys) before the first set it signs. */
export class Signer {
  private listed: Promise<void> | null = null;

  constructor(
    readonly key: KeyObject,
    private readonly store: ArtifactStore,
  ) {}

  /** Lists the key once; a failure (storage down) is tried again by the next call. */
  ensureListed(): Promise<void> {
    this.listed ??= registerSigningKey(this.store, publicKeyRecord(this.key, new Date().toISOString())).catch((err: unknown) => {
      this.listed = null;
      throw err;
    });
    return this.listed;
  }
}

export interface ProvenanceInput {
  workDir: string;
  buildKey: string;
  spec: BuildSpec;
  toolchain: { name: string; version: string };
  invocation: ToolchainInvocation;
  worker: WorkerFacts;
  workerImage?: string;
  startedOn: Date;
  signer: Signer;
}

export async function writeProvenance(input: ProvenanceInput, files: ManifestFile[]): Promise<ArtifactFileInput> {
  // No set may be signed by a key that GET /v1/keys does not list.
  await input.signer.ensureListed();
  const statement = buildStatement({
    buildKey: input.buildKey,
    spec: input.spec,
    files,
    toolchain: input.toolchain,
    invocation: input.invocation,
    device: deviceFacts(input.worker),
    workerId: input.worker.id,
    kilnVersion: KILN_VERSION,
    workerImage: input.workerImage,
    startedOn: input.startedOn.toISOString(),
    finishedOn: new Date().toISOString(),
  });
  const envelope = signEnvelope(statementPayload(statement), IN_TOTO_PAYLOAD_TYPE, input.signer.key);
  const file = path.join(input.workDir, PROVENANCE_FILE);
  await writeFile(file, JSON.stringify(envelope, null, 2) + '\n');
  return { name: PROVENANCE_FILE, path: file, role: 'provenance' };
}

/** The GPU a worker registered (name, CC, UUID, SKU, driver), as its hardware facts hold it. */
function deviceFacts(worker: WorkerFacts): DeviceFacts | undefined {
  const gpu = worker.hardware.gpu as Record<string, unknown> | undefined;
  if (!gpu || typeof gpu !== 'object') return undefined;
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const facts: DeviceFacts = { name: text(gpu.name), cc: text(gpu.cc), uuid: text(gpu.uuid), sku: text(gpu.sku), driverVersion: text(gpu.driverVersion) };
  return JSON.parse(JSON.stringify(facts)) as DeviceFacts;
}
