/**
 * A Triton model repository for one model, as a list of files: what the API streams as a tar and
 * `kiln export triton` writes as a folder.
 *
 *   kiln-export.json                what is in it: every file with its sha256 and size (first, so
 *                                   a reader can verify each file as it arrives)
 *   <name>/config.pbtxt             platform tensorrt_plan, cc_model_filenames for every engine
 *   <name>/1/model.sm<cc>.plan      one engine per compute capability
 *   <name>_onnx/config.pbtxt        (optional) the ONNX as an onnxruntime_onnx fallback model
 *   <name>_onnx/1/model.onnx
 *
 * Triton reads only folders at the top of a repository, so the listing beside them is ignored.
 * docs/exports.md has the design.
 */
import { createHash } from 'node:crypto';
import type { ManifestFile } from '../manifest';
import type { ModelInfo } from '../onnx/model-info';
import { ccToSm } from '../target';
import type { ShapeProfile } from '../tensorrt/options';
import { maxBatchSizeOf, modelConfigText, ONNX_PLATFORM, TENSORRT_PLATFORM } from './model-config';

export const EXPORT_LISTING = 'kiln-export.json';
/** Triton's model names are folder names; Kiln's model names already fit, user-given ones are held to it. */
export const REPOSITORY_MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export interface RepositoryEngine {
  targetKey: string;
  buildKey: string;
  cc: string;
  trt: string;
  /** The engine as its artifact set's manifest lists it. */
  file: ManifestFile;
  /** The optimization profiles it was built with (its report's); null or absent for a static engine. */
  profiles?: ShapeProfile[] | null;
}

/** Where a file's bytes come from: made here, a file of an artifact set, or the uploaded model. */
export type RepositorySource =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'artifact'; buildKey: string; file: ManifestFile }
  | { kind: 'model'; sha256: string };

export interface RepositoryFile {
  /** Path inside the repository, `/`-separated. */
  path: string;
  sha256: string;
  size: number;
  source: RepositorySource;
}

export interface RepositorySpec {
  name: string;
  model: Pick<ModelInfo, 'sha256' | 'size' | 'inputs' | 'outputs'>;
  engines: RepositoryEngine[];
  /** Add the ONNX as an `onnxruntime_onnx` model named `<name>_onnx`. (Default: false) */
  onnxFallback?: boolean;
}

export interface ExportListing {
  schema: 1;
  model: string;
  name: string;
  trt: string;
  maxBatchSize: number;
  engines: Array<{ cc: string; targetKey: string; buildKey: string; path: string }>;
  files: Array<{ path: string; sha256: string; size: number }>;
}

export class RepositoryError extends Error {
  override name = 'RepositoryError';
}

/** The repository's files, the listing first. Throws RepositoryError for engines Triton cannot serve together. */
export function tritonRepository(spec: RepositorySpec): RepositoryFile[] {
  if (!REPOSITORY_MODEL_NAME.test(spec.name)) {
    throw new RepositoryError(`Expected a model name of [A-Za-z0-9._-], at most 64 characters, not starting with '.' or '-', but received ${JSON.stringify(spec.name)}`);
  }
  if (spec.engines.length === 0) throw new RepositoryError('Expected at least one published TensorRT engine of the model but found none');
  const versions = [...new Set(spec.engines.map((e) => e.trt))];
  if (versions.length > 1) {
    // One Triton server links one TensorRT; an engine of another version does not load in it.
    throw new RepositoryError(
      `Expected engines of one TensorRT version (a Triton server has one) but received ${spec.engines.map((e) => `${e.targetKey} (${e.trt})`).join(', ')}; choose with targets or trt`,
    );
  }
  const byCc = new Map<string, RepositoryEngine>();
  for (const engine of spec.engines) {
    const other = byCc.get(engine.cc);
    if (other) throw new RepositoryError(`Expected one engine per compute capability but received two for ${engine.cc}: ${other.targetKey} and ${engine.targetKey}; choose one with targets`);
    byCc.set(engine.cc, engine);
  }
  const engines = [...byCc.values()].sort((a, b) => Number(a.cc) - Number(b.cc));
  const maxBatchSize = maxBatchSizeOf(spec.model, engines.map((e) => e.profiles));
  const files: RepositoryFile[] = [];
  const ccModelFilenames: Record<string, string> = {};
  for (const engine of engines) {
    const file = `model.sm${ccToSm(engine.cc)}.plan`;
    ccModelFilenames[engine.cc] = file;
    files.push({ path: `${spec.name}/1/${file}`, sha256: engine.file.sha256, size: engine.file.size, source: { kind: 'artifact', buildKey: engine.buildKey, file: engine.file } });
  }
  files.unshift(made(`${spec.name}/config.pbtxt`, modelConfigText({ name: spec.name, platform: TENSORRT_PLATFORM, model: spec.model, maxBatchSize, ccModelFilenames })));
  if (spec.onnxFallback) {
    const onnxName = `${spec.name}_onnx`;
    // ONNX Runtime batches any leading dynamic dim, so the fallback takes the engines' batch size.
    files.push(made(`${onnxName}/config.pbtxt`, modelConfigText({ name: onnxName, platform: ONNX_PLATFORM, model: spec.model, maxBatchSize })));
    files.push({ path: `${onnxName}/1/model.onnx`, sha256: spec.model.sha256, size: spec.model.size, source: { kind: 'model', sha256: spec.model.sha256 } });
  }
  const listing: ExportListing = {
    schema: 1,
    model: spec.model.sha256,
    name: spec.name,
    trt: versions[0],
    maxBatchSize,
    engines: engines.map((e) => ({ cc: e.cc, targetKey: e.targetKey, buildKey: e.buildKey, path: `${spec.name}/1/${ccModelFilenames[e.cc]}` })),
    files: files.map(({ path, sha256, size }) => ({ path, sha256, size })),
  };
  return [made(EXPORT_LISTING, `${JSON.stringify(listing, null, 2)}\n`), ...files];
}

function made(path: string, text: string): RepositoryFile {
  const bytes = Buffer.from(text);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, source: { kind: 'bytes', bytes } };
}
