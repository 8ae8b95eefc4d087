/** What the index keeps of a published artifact set: the manifest facts resolve needs. */
import type { Manifest } from './manifest';

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
  const options = manifest.spec.options as Record<string, unknown>;
  const trt = (options.tensorrt ?? {}) as Record<string, unknown>;
  const traits: Record<string, string> = {};
  if (typeof trt.precision === 'string') traits.precision = trt.precision;
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
