/**
 * A toolchain turns an ONNX model into an artifact for one kind of target. Every toolchain is one
 * folder of the same shape (detect, build, validate, benchmark, options) exporting a Toolchain.
 * The worker's pipeline calls the steps in order and owns everything around them: the queue,
 * progress, storage and the report.
 */
import type { BuildSpec } from '../../core/build-spec';
import type { Target } from '../../core/target';
import type { BenchmarkReport, ValidationReport } from '../../core/report';
import type { ModelInfo } from '../../core/onnx/model-info';
import type { ToolchainInvocation } from '../../core/provenance/statement';
import type { TelemetrySample } from '../../state/worker-telemetry';

export { PHASES, type Phase } from '../../core/build-phases';

/** What a toolchain found on this machine. */
export interface Capabilities {
  toolchain: string;
  /** Toolchain version, e.g. ONNX Runtime 1.30.0 or TensorRT 10.9.0; absent when unavailable. */
  version?: string;
  /** Targets this machine can build; empty when the toolchain is unavailable. */
  targets: Target[];
  /** Hardware facts for the worker's registration. */
  hardware: Record<string, unknown>;
  /** Why no target is served, when none is. */
  unavailableReason?: string;
  /** Targets of this hardware the toolchain cannot build, and why (e.g. same-cc before TensorRT 10.9). */
  refused?: { target: string; reason: string }[];
}

export interface StepContext {
  /** The spec's build key, as the job carries it (never recomputed: it names the build everywhere). */
  buildKey: string;
  spec: BuildSpec;
  model: ModelInfo;
  /** The original ONNX on local disk. */
  modelPath: string;
  /** A private, empty directory for this build; removed afterwards. */
  workDir: string;
  /** Aborted on cancel, timeout or shutdown; long steps must stop promptly. */
  signal: AbortSignal;
  /** 0..100 within the current phase. */
  progress(percent: number): void;
  log(line: string): void;
}

export interface BuiltFile {
  /** File name inside the artifact set. */
  name: string;
  /** Local path of the file. */
  path: string;
  role: 'engine' | 'model' | 'timing-cache' | 'layer-info' | 'layer-profile' | 'log' | 'epcontext' | 'other';
}

export interface BuildOutput {
  /** The file clients fetch. */
  primary: BuiltFile;
  extra: BuiltFile[];
  details: Record<string, unknown>;
  /** What the toolchain ran (argv or settings, the timing cache it started from), for the signed provenance. (Default: nothing recorded) */
  invocation?: ToolchainInvocation;
  warnings: string[];
  /**
   * Why the artifact cannot be run here as it was built, when it cannot (a weight-stripped engine
   * this TensorRT cannot refit at load): it is published, validation and the benchmark are
   * skipped, and the report says why instead of carrying numbers of something else.
   */
  cannotRun?: string;
}

/**
 * `Built` is what the toolchain's build hands to its own validate and benchmark steps: a toolchain
 * may carry more than the files (the TensorRT one carries how its engine loads), decided once.
 */
export interface Toolchain<Built extends BuildOutput = BuildOutput> {
  readonly name: Target['toolchain'];
  detect(): Promise<Capabilities>;
  build(ctx: StepContext): Promise<Built>;
  validate(ctx: StepContext, built: Built): Promise<ValidationReport>;
  /** May also write the per-layer profile, `layer-profile.json` (core/layer-profile.ts), into the work dir. */
  benchmark(ctx: StepContext, built: Built): Promise<BenchmarkReport>;
  /** What the hardware this toolchain builds on is doing now (a GPU's NVML reading), for heartbeats. */
  telemetry?(): Promise<TelemetrySample | null>;
  /** Ends what the toolchain keeps running between builds (a long-lived child process); the worker calls it on stop. */
  close?(): Promise<void>;
}

export { BuildInputError } from '../../core/build-input-error';
