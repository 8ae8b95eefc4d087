/** What the index keeps of a published artifact set: the manifest facts resolve needs. */
import type { Manifest } from './manifest';
import { computePrecisionOf } from './tensorrt/precision';

export interface PublishedArtifact {
  buildKey: string;
  modelId: string;
  targetKey: string;
  target: Manifest['spec']['target'];
  primary: string;
  files: Manifest['files'];
  validation: Manifest['validation'];
  publishedAt: string;
  /** Facts about the options resolve may match on (e.g. TensorRT precision). */
  traits: Record<string, string>;
}

export function summarize(manifest: Manifest): PublishedArtifact {
  const traits: Record<string, string> = {};
  if (manifest.spec.target.toolchain === 'tensorrt') {
    // The compute precision (fp32, tf32, fp16, bf16, int8, fp8): what a client means by "an fp16
    // engine". Options are a list of trtexec flags, so they are reduced. The spec was parsed when
    // it was submitted; a manifest without the section predates it and means the defaults.
    traits.precision = computePrecisionOf(manifest.spec.options.tensorrt?.precision ?? []);
    // Loadable by later releases of the same major: the version-compatible rung of resolve.
    if (manifest.spec.options.tensorrt?.versionCompatible) traits.versionCompatible = 'true';
  }
  return {
    buildKey: manifest.buildKey,
    modelId: manifest.spec.modelId,
    targetKey: manifest.spec.targetKey,
    target: manifest.spec.target,
    primary: manifest.primary,
    files: manifest.files,
    validation: manifest.validation,
    publishedAt: manifest.publishedAt,
    traits,
  };
}
