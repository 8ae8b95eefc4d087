/**
 * The provenance statement of an artifact set: an in-toto Statement v1 whose subjects are the
 * set's files (name + sha256) with a SLSA provenance v1 predicate saying how they were made: the
 * model, the canonical build spec, what the toolchain ran, on which GPU and driver, from which
 * timing cache, in which worker image. docs/provenance.md describes every field.
 */
import type { BuildSpec } from '../build-spec';
import { canonicalJson } from '../canonical-json';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What `externalParameters` and `internalParameters` mean (docs/provenance.md#build-type). */
export const KILN_BUILD_TYPE = 'urn:kiln:build-type:v1';

/** The signed envelope, one file of every artifact set (listed by its manifest). */
export const PROVENANCE_FILE = 'provenance.dsse.json';
/** The statement, decoded from the envelope, that `kiln fetch` saves beside the files. */
export const STATEMENT_FILE = 'provenance.statement.json';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
}

/** What a toolchain ran, as the statement records it. */
export interface ToolchainInvocation {
  /** The exact argv of the toolchain process (trtexec and its arguments) when it is a command. */
  argv?: string[];
  /** The settings of an in-process toolchain (ONNX Runtime's session options) when it is not. */
  settings?: Record<string, unknown>;
  /** sha256 of the timing cache the build started from; null when it started without one. */
  timingCacheBefore?: string | null;
}

export interface DeviceFacts {
  name?: string;
  cc?: string;
  uuid?: string;
  sku?: string;
  driverVersion?: string;
}

export interface KilnStatement {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: typeof KILN_BUILD_TYPE;
      externalParameters: { buildKey: string; spec: BuildSpec };
      internalParameters: {
        toolchain: { name: string; version: string };
        argv?: string[];
        settings?: Record<string, unknown>;
        device?: DeviceFacts;
        timingCache?: { before: string | null; after: string | null };
      };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

export interface StatementInput {
  buildKey: string;
  spec: BuildSpec;
  /** Every file of the artifact set, as uploaded (the envelope itself excepted). */
  files: { name: string; sha256: string; role?: string }[];
  toolchain: { name: string; version: string };
  invocation: ToolchainInvocation;
  device?: DeviceFacts;
  workerId: string;
  kilnVersion: string;
  /** `registry/name@sha256:<hex>` of the worker's image, when the deployment says it (KILN_WORKER_IMAGE). */
  workerImage?: string;
  startedOn: string;
  finishedOn: string;
}

const IMAGE_DIGEST = /@sha256:([0-9a-f]{64})$/;

export function buildStatement(input: StatementInput): KilnStatement {
  const { spec, invocation, device } = input;
  const timingCacheAfter = input.files.find((f) => f.role === 'timing-cache')?.sha256 ?? null;
  const timingCacheBefore = invocation.timingCacheBefore ?? null;
  const dependencies: ResourceDescriptor[] = [{ name: 'model', uri: `kiln:models/${spec.modelId}.onnx`, digest: { sha256: spec.modelId } }];
  if (timingCacheBefore) dependencies.push({ name: 'timing-cache', digest: { sha256: timingCacheBefore } });
  const image = input.workerImage ? IMAGE_DIGEST.exec(input.workerImage) : null;
  if (image) dependencies.push({ name: 'worker-image', uri: input.workerImage, digest: { sha256: image[1] } });

  const version: Record<string, string> = { kiln: input.kilnVersion, [input.toolchain.name]: input.toolchain.version };
  if (device?.driverVersion) version.driver = device.driverVersion;
  return {
    _type: STATEMENT_TYPE,
    subject: input.files.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: KILN_BUILD_TYPE,
        // The spec in canonical form (sorted keys, no undefined): its sha256 is the build key.
        externalParameters: { buildKey: input.buildKey, spec: JSON.parse(canonicalJson(spec)) as BuildSpec },
        internalParameters: {
          toolchain: input.toolchain,
          ...(invocation.argv ? { argv: invocation.argv } : {}),
          ...(invocation.settings ? { settings: invocation.settings } : {}),
          ...(device ? { device } : {}),
          ...(spec.target.toolchain === 'tensorrt' ? { timingCache: { before: timingCacheBefore, after: timingCacheAfter } } : {}),
        },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: `urn:kiln:worker:${input.workerId}`, version },
        metadata: { invocationId: input.buildKey, startedOn: input.startedOn, finishedOn: input.finishedOn },
      },
    },
  };
}

/** The payload bytes that are signed: the statement's JSON, indented so people can read it. */
export function statementPayload(statement: KilnStatement): Buffer {
  return Buffer.from(JSON.stringify(statement, null, 2) + '\n', 'utf8');
}
