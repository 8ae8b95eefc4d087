/**
 * The manifest of an artifact set (`builds/<buildKey>/manifest.json`). It is written last: an
 * artifact set without a manifest is not published. It lists every file with its sha256 and size,
 * so servers and clients can verify what they hold, and it carries what the index in Redis is
 * rebuilt from.
 */
import type { BuildSpec } from './build-spec';

export const MANIFEST_FILE = 'manifest.json';
export const REPORT_FILE = 'report.json';
export const LOG_FILE = 'build.log';

export interface ManifestFile {
  /** File name inside the artifact set, e.g. `model.optimized.onnx`, `engine.plan`. */
  name: string;
  sha256: string;
  size: number;
  /** What the file is: `engine`, `model`, `timing-cache`, `log`, `layer-info`, `layer-profile`, `report`, `epcontext` (docs/exports.md), `provenance` (docs/provenance.md). */
  role: string;
  /**
   * Stored once by its content at `blobs/<sha256>`, shared by every manifest that lists the same
   * bytes (docs/cleanup.md). Absent in manifests written before: their files live under the build.
   */
  blob?: true;
}

export interface WorkerFacts {
  id: string;
  host: string;
  /** Toolchain name -> version (`onnxruntime: 1.30.0`, `tensorrt: 10.9.0`). */
  toolchains: Record<string, string>;
  /** What the hardware is: CPU model and ISA flags, or GPU name, CC, memory, driver. */
  hardware: Record<string, unknown>;
}

export interface Manifest {
  schema: 1;
  buildKey: string;
  spec: BuildSpec;
  /** The file clients fetch: the engine or the optimised model. */
  primary: string;
  files: ManifestFile[];
  worker: WorkerFacts;
  validation: 'pass' | 'warn' | 'fail' | 'skipped';
  publishedAt: string;
  buildSeconds: number;
}
