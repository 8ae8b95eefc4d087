/**
 * `report.json`: what a build found out about its artifact. Shared by every toolchain, read by the
 * API, the CLI and the dashboard.
 */

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

export interface ValidationReport {
  verdict: Verdict;
  reference: string;
  rtol: number;
  atol: number;
  seed: number;
  failRatio: number;
  /** Concrete input shapes used. */
  inputs: Record<string, { dims: number[]; type: string; source: 'seeded' | 'user' }>;
  outputs: OutputComparison[];
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

export interface BenchmarkReport {
  /** Whether the batch dim is dynamic; when not, only the model's own batch size is measured. */
  dynamicBatch: boolean;
  rows: BenchmarkRow[];
  /**
   * When the build measured several runtime settings on its one artifact (a sweep over ONNX
   * Runtime's intra-op threads or execution mode): each setting's rows, in the order the spec
   * lists them; `rows` are then the first setting's.
   */
  runtimes?: { settings: Record<string, unknown>; rows: BenchmarkRow[] }[];
}

export interface BuildReport {
  schema: 1;
  buildKey: string;
  targetKey: string;
  toolchain: { name: string; version: string };
  build: { seconds: number; details: Record<string, unknown> };
  validation: ValidationReport | null;
  benchmark: BenchmarkReport | null;
  /**
   * Why validation and the benchmark were not run (both are null then), e.g. a weight-stripped
   * engine that the TensorRT which built it cannot refit at load. Absent when they ran.
   */
  skipped?: string;
  warnings: string[];
}
