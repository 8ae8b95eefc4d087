/**
 * Build spec and build key. The key is the sha256 of the canonical JSON of the spec: same key, same
 * artifact, so a resubmission never rebuilds (content addressing, like Bazel's action cache).
 */
import { canonicalJson } from './canonical-json';
import { sha256Hex } from './hash';
import { optionsForToolchain, type BuildOptions } from './options';
import { targetKey, type Target } from './target';

/** Bump when the meaning of a spec changes, so old artifacts are not served for new specs. */
export const SPEC_SCHEMA_VERSION = 1;

export interface BuildSpec {
  schema: number;
  /** sha256 of the ONNX model. */
  modelId: string;
  target: Target;
  targetKey: string;
  options: BuildOptions;
}

export function makeBuildSpec(modelId: string, target: Target, options: BuildOptions): BuildSpec {
  return {
    schema: SPEC_SCHEMA_VERSION,
    modelId,
    target,
    targetKey: targetKey(target),
    options: optionsForToolchain(options, target.toolchain),
  };
}

export function buildKeyOf(spec: BuildSpec): string {
  return sha256Hex(canonicalJson(spec));
}
