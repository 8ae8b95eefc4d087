/**
 * `report.json`: what a build found out about its artifact. Shared by every toolchain, read by the
 * API, the CLI and the dashboard.
 */
import type { LayerProfileSummary } from './layer-profile';

export type Verdict = 'pass' | 'warn' | 'fail';

export interface OutputComparison {
  name: string;
  elements: number;
  /** Elements outside isclose(rtol, atol): |a - b| > atol + rtol * |b| (b = the reference). */
  mismatched: number;
  mismatchRatio: number;
  maxAbsError: number;
  maxRelError: number;
  /** NaN/Inf found where the reference has a finite value (or the other way round). */
  nonFinite: number;
  verdict: Verdict;
}

/** An optimization profile's shape range per dynamic input, as built. */
export type ProfileShapes = Record<string, { min: number[]; opt: number[]; max: number[] }>;

/** One optimization profile's validation: its shapes, the inputs it ran on, isclose per output. */
export interface ProfileValidation {
  index: number;
  shapes: ProfileShapes;
  verdict: Verdict;
  inputs: ValidationReport['inputs'];
  outputs: OutputComparison[];
}

export interface ValidationReport {
  /** The worst verdict of every profile. */
  verdict: Verdict;
  reference: string;
  rtol: number;
  atol: number;
  seed: number;
  failRatio: number;
  /** Concrete input shapes used. */
  inputs: Record<string, { dims: number[]; type: string; source: 'seeded' | 'user' }>;
  outputs: OutputComparison[];
  /**
   * TensorRT engines with optimization profiles: every profile, validated on its own. `inputs` and
   * `outputs` above are then those of the worst profile (profile 0 when all are alike), `profile`.
   */
  profiles?: ProfileValidation[];
  profile?: number;
  /**
   * When this model is `name@N` and `name@N-1` has a published build for the same target: how far
   * the new version's outputs moved from the previous one's on the same seeded inputs. Absent when
   * there is no previous version to compare with.
   */
  drift?: DriftReport;
}

export interface OutputDrift {
  name: string;
  elements: number;
  /** max |new - previous| over the output's elements (Infinity, null in JSON, when shapes differ). */
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** 'fail' when maxAbsDiff is over validation.maxDrift; 'pass' otherwise (also when no gate is set). */
  verdict: 'pass' | 'fail';
}

export interface DriftReport {
  /** This model's label that has a previous version, e.g. `resnet@3`. */
  label: string;
  previous: { label: string; modelId: string; buildKey: string };
  /** Both models run as the validation reference does: ONNX Runtime CPU, optimisations off. */
  runner: string;
  seed: number;
  /** The gate, options.validation.maxDrift; null when none was set (drift reported, never failed). */
  maxDrift: number | null;
  /** 'skipped' when the two versions could not run on the same inputs (note says why). */
  verdict: 'pass' | 'fail' | 'skipped';
  outputs: OutputDrift[];
  note?: string;
}

export interface LatencyStats {
  min: number;
  mean: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface BenchmarkRow {
  batch: number;
  iterations: number;
  /** Milliseconds per run (host wall clock for ONNX Runtime; trtexec's Latency for TensorRT). */
  latencyMs: LatencyStats;
  /** Runs per second. */
  throughputQps: number;
  /** Samples per second: qps x batch. */
  throughputSps: number;
  /** TensorRT only: GPU compute time, H2D, D2H, enqueue percentiles. */
  gpuComputeMs?: LatencyStats;
  h2dMs?: LatencyStats;
  d2hMs?: LatencyStats;
  enqueueMs?: LatencyStats;
  /** Peak memory seen during the run: resident set for CPU, device memory for GPU. */
  memoryBytes?: number;
}

/**
 * One optimization profile's benchmark: its shapes and its rows, measured with that profile
 * selected (trtexec --useProfile=N) at the batch sizes it accepts.
 */
export interface ProfileBenchmark {
  index: number;
  shapes: ProfileShapes;
  /** Whether this profile's batch range spans more than one size (then measured at each). */
  dynamicBatch: boolean;
  rows: BenchmarkRow[];
}

export interface BenchmarkReport {
  /** Whether the batch dim is dynamic; when not, only the model's own batch size is measured. */
  dynamicBatch: boolean;
  /** TensorRT engines with optimization profiles: profile 0's rows (readers from before per-profile benchmarks read these). */
  rows: BenchmarkRow[];
  /**
   * TensorRT engines with optimization profiles: every profile, benchmarked on its own, in index
   * order. `dynamicBatch` and `rows` above are profile 0's; the reference and speed-up are
   * measured against profile 0's batch sizes. Absent for static engines and other toolchains.
   */
  profiles?: ProfileBenchmark[];
  /**
   * When the build measured several runtime settings on its one artifact (a sweep over ONNX
   * Runtime's intra-op threads or execution mode): each setting's rows, in the order the spec
   * lists them; `rows` are then the first setting's.
   */
  runtimes?: { settings: Record<string, unknown>; rows: BenchmarkRow[] }[];
  /** The reference measured at the same batch sizes on the same inputs (absent in reports made before it was). */
  reference?: ReferenceBenchmark;
  /** Per batch size: how much faster the artifact is than its reference. */
  speedup?: SpeedupRow[];
  /** What else loaded the machine while measuring, the threads used, and whether the numbers are clean. */
  conditions?: BenchmarkConditions;
}

/**
 * The baseline a build is measured against: for ONNX Runtime builds the original model with
 * optimisations off (same threads, batch sizes and inputs); for TensorRT builds the ONNX Runtime
 * CPU reference that validation compares with, named as such.
 */
export interface ReferenceBenchmark {
  name: string;
  rows: BenchmarkRow[];
}

export interface SpeedupRow {
  batch: number;
  referenceMedianMs: number;
  medianMs: number;
  /** Reference median latency over the artifact's: 2 means twice as fast. */
  speedup: number;
}

/** Host CPU load from /proc/stat over the measurement, in cores' worth of busy time. */
export interface HostLoad {
  /** Logical CPUs /proc/stat lists. */
  cores: number;
  /** Busy cores on average over the measurement, everything included. */
  busyCores: number;
  /** Busy cores not accounted for by the worker process itself: what else loaded the host. */
  otherCores: number;
  /** /proc/loadavg's 1-minute load at the end. */
  loadAverage1m: number;
  seconds: number;
}

/** One idle-guard reading of the GPU around a TensorRT benchmark run. */
export interface GpuLoadReading {
  at: string;
  utilizationGpu: number | null;
  /** Compute processes that are not the worker's; null when NVML could not list them. */
  otherProcesses: number | null;
  busy: boolean;
  why: string | null;
}

export interface BenchmarkConditions {
  /** ONNX Runtime intra-op threads of the measured sessions (artifact and reference alike); null when trtexec measured. */
  threads: number | null;
  /** ONNX Runtime intra-op threads of the reference, when another process (trtexec) measured the artifact. */
  referenceThreads?: number;
  /** null where /proc cannot be read (not Linux). */
  host: HostLoad | null;
  /** TensorRT builds: the GPU idle guard's readings before each run and after the last; absent without a guard. */
  gpu?: GpuLoadReading[];
  /** 'noisy' when something else loaded the machine while measuring: compare such numbers with care. */
  quality: 'clean' | 'noisy';
  /** Why the measurement is noisy (empty when clean). */
  reasons: string[];
}

export interface BuildReport {
  schema: 1;
  buildKey: string;
  targetKey: string;
  toolchain: { name: string; version: string };
  build: { seconds: number; details: Record<string, unknown> };
  validation: ValidationReport | null;
  benchmark: BenchmarkReport | null;
  /** Where the artifact spends its time, slowest layers first; the full table is the layer-profile.json artifact. */
  layerProfile?: LayerProfileSummary;
  /**
   * Why validation and the benchmark were not run (both are null then), e.g. a weight-stripped
   * engine that the TensorRT which built it cannot refit at load. Absent when they ran.
   */
  skipped?: string;
  warnings: string[];
}
