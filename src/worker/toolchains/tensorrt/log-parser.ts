/**
 * Reads trtexec's output line by line, as it streams, for TensorRT 8.6 and 10.x.
 *
 * Line shapes (samples/common/logging.h): `[MM/DD/YYYY-HH:MM:SS] [I] message`, severity one of
 * V I W E F; messages from the library carry `[TRT] ` after the severity. The first and last lines
 * are `&&&& RUNNING|PASSED|FAILED TensorRT.trtexec [TensorRT v100900] [b34] # argv`. Other lines
 * (layer dumps, ONNX node dumps inside an error) have no prefix. Unknown lines are ignored, so a
 * newer trtexec that adds lines still parses.
 */
import type { LatencyStats } from '../../../core/report';
import { decodeBannerVersion, formatTrtVersion } from '../../../core/tensorrt/version';

export type Severity = 'V' | 'I' | 'W' | 'E' | 'F';
export type RunStatus = 'running' | 'passed' | 'failed' | 'waived';

/** Where a run is, in the order trtexec gets there; MILESTONE_PERCENT gives build runs a progress hint. */
export type Milestone =
  | 'started'
  | 'device'
  | 'parsing-started'
  | 'parsing-finished'
  | 'building'
  | 'engine-built'
  | 'cache-saved'
  | 'engine-loaded'
  | 'inference-started'
  | 'finished';

export const MILESTONE_PERCENT: Record<Milestone, number> = {
  started: 1,
  device: 3,
  'parsing-started': 5,
  'parsing-finished': 10,
  building: 15,
  'engine-built': 90,
  'cache-saved': 95,
  'engine-loaded': 20,
  'inference-started': 30,
  finished: 100,
};

export interface Banner {
  status: RunStatus;
  /** `10.9.0` decoded from `[TensorRT v100900]`. */
  trtVersion: string;
  /** The `[b34]` build tag (10.4 and later). */
  build?: number;
  argv: string;
}

export interface TimingStats {
  min: number;
  max: number;
  mean: number;
  median: number;
  /** Percentile (as printed, e.g. `90`, `99.9`) -> value. */
  percentiles: Record<string, number>;
}

export interface PerformanceSummary {
  throughputQps?: number;
  /** Milliseconds. */
  latency?: TimingStats;
  enqueueTime?: TimingStats;
  h2dLatency?: TimingStats;
  gpuComputeTime?: TimingStats;
  d2hLatency?: TimingStats;
  totalHostWalltimeSec?: number;
  totalGpuComputeSec?: number;
  warmupQueries?: number;
  timedQueries?: number;
}

export interface DeviceInfo {
  name?: string;
  id?: number;
  uuid?: string;
  cc?: string;
  sms?: number;
  memoryMiB?: number;
}

export interface TimingCacheInfo {
  loadedBytes?: number;
  loadedFrom?: string;
  /** The cache file did not exist or could not be read, so a new one was started. */
  missing?: boolean;
  savedBytes?: number;
  savedTo?: string;
  /** `Serialized N timing cache entries` (10.13 and later). */
  entries?: number;
}

export interface TrtexecLog {
  status: RunStatus | 'unknown';
  argv?: string;
  trtVersion?: string;
  build?: number;
  device: DeviceInfo;
  availableDevices: { index: number; name: string; uuid: string }[];
  parseSeconds?: number;
  buildSeconds?: number;
  /** Library's own `Engine generation completed in X seconds.` */
  engineGenerationSeconds?: number;
  /** `Created engine with size: X MiB` (9.3 and later). */
  engineSizeMiB?: number;
  /** `[TRT] Loaded engine size: N MiB` (whole MiB, any version). */
  loadedEngineSizeMiB?: number;
  loadSeconds?: number;
  deserializeSeconds?: number;
  timingCache: TimingCacheInfo;
  memory: {
    /** Largest `now: ... GPU N (MiB)` of the [MemUsageChange] lines. */
    peakGpuMiB?: number;
    /** `Created execution context with device memory size: X MiB`. */
    contextMiB?: number;
    /** `[MemUsageStats] Peak memory usage of TRT CPU/GPU memory allocators: ... GPU N MiB`. */
    builderPeakGpuMiB?: number;
  };
  skippedInference: boolean;
  performance?: PerformanceSummary;
  /** `[W]` messages: the first and the last ones when there are more than MAX_MESSAGES. */
  warnings: string[];
  warningCount: number;
  /** `[E]` and `[F]` messages, capped like warnings; the first usually names the cause, the last the outcome. */
  errors: string[];
  errorCount: number;
  milestones: Milestone[];
}

/** What one line meant, for callers that react as the log streams. */
export interface LineEvent {
  severity?: Severity;
  message: string;
  milestone?: Milestone;
}

const BANNER = /^&&&& (RUNNING|PASSED|FAILED|WAIVED) \S+ \[TensorRT v(\d+)\](?: \[b(\d+)\])? # (.*)$/;
const PREFIX = /^\[(\d\d\/\d\d\/\d{4}-\d\d:\d\d:\d\d)\] \[([VIWEF])\](?: (.*))?$/;
const NUMBER = '(-?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?|-?inf|-?nan)';
const STAT = new RegExp(`^(min|max|mean|median|percentile\\(([\\d.]+)%\\)) = ${NUMBER} ms$`);
const MAX_MESSAGES = 200;

/** Parses a banner line; null when the line is not one. */
export function parseBanner(line: string): Banner | null {
  const m = BANNER.exec(line.trimEnd());
  if (!m) return null;
  const banner: Banner = {
    status: m[1].toLowerCase() as RunStatus,
    trtVersion: formatTrtVersion(decodeBannerVersion(Number(m[2]))),
    argv: m[4],
  };
  if (m[3] !== undefined) banner.build = Number(m[3]);
  return banner;
}

/** Parses a whole log at once. */
export function parseTrtexecLog(text: string): TrtexecLog {
  const reader = new TrtexecLogReader();
  reader.feed(text);
  return reader.end();
}

/** Incremental reader: `feed` chunks (lines may be split across them), `end` flushes the rest. */
export class TrtexecLogReader {
  readonly log: TrtexecLog = {
    status: 'unknown',
    device: {},
    availableDevices: [],
    timingCache: {},
    memory: {},
    skippedInference: false,
    warnings: [],
    warningCount: 0,
    errors: [],
    errorCount: 0,
    milestones: [],
  };
  /** Unfinished last line, per stream: trtexec writes INFO to stdout and WARNING/ERROR to stderr. */
  private readonly pending = new Map<string, string>();
  private errorContinues = false;

  /** Feeds a chunk of one stream's output; returns an event per complete line. */
  feed(chunk: string, stream = 'stdout'): LineEvent[] {
    const lines = ((this.pending.get(stream) ?? '') + chunk).split(/\r?\n/);
    this.pending.set(stream, lines.pop() ?? '');
    return lines.map((line) => this.line(line));
  }

  /** Flushes last lines without a newline and returns the summary. */
  end(): TrtexecLog {
    for (const rest of this.pending.values()) if (rest) this.line(rest);
    this.pending.clear();
    return this.log;
  }

  /** The furthest milestone's progress hint, 0 before any. */
  get percent(): number {
    return this.log.milestones.reduce((max, m) => Math.max(max, MILESTONE_PERCENT[m]), 0);
  }

  /** Reads one complete line. */
  line(raw: string): LineEvent {
    const line = raw.replace(/\r$/, '');
    const banner = parseBanner(line);
    if (banner) return this.onBanner(banner, line);
    const m = PREFIX.exec(line);
    if (!m) return this.onUnprefixed(line);
    const severity = m[2] as Severity;
    const message = (m[3] ?? '').trimEnd();
    const event: LineEvent = { severity, message };
    this.errorContinues = false;
    if (severity === 'W') {
      this.log.warningCount++;
      pushCapped(this.log.warnings, message);
    }
    if (severity === 'E' || severity === 'F') {
      this.log.errorCount++;
      pushCapped(this.log.errors, message);
      // `... In function importFoo:` is finished by the next, unprefixed, line: `[8] Assertion failed: ...`.
      this.errorContinues = message.endsWith(':');
    }
    const milestone = this.onMessage(message.startsWith('[TRT] ') ? message.slice(6) : message);
    // An event carries a milestone on the first line that reaches it only.
    if (milestone && !this.log.milestones.includes(milestone)) {
      event.milestone = milestone;
      this.log.milestones.push(milestone);
    }
    return event;
  }

  private onUnprefixed(line: string): LineEvent {
    if (this.errorContinues && line.trim()) {
      const errors = this.log.errors;
      errors[errors.length - 1] += ` ${line.trim()}`;
      this.errorContinues = false;
    }
    return { message: line };
  }

  private onBanner(banner: Banner, line: string): LineEvent {
    this.log.status = banner.status;
    this.log.argv = banner.argv;
    this.log.trtVersion ??= banner.trtVersion;
    if (banner.build !== undefined) this.log.build = banner.build;
    const milestone: Milestone = banner.status === 'running' ? 'started' : 'finished';
    if (this.log.milestones.includes(milestone)) return { message: line };
    this.log.milestones.push(milestone);
    return { message: line, milestone };
  }

  /** Returns the milestone a message marks, if any; records every fact it carries. */
  private onMessage(msg: string): Milestone | undefined {
    const log = this.log;
    let m: RegExpExecArray | null;
    if ((m = /^TensorRT version: (\d+\.\d+\.\d+)/.exec(msg))) {
      log.trtVersion = m[1];
    } else if (msg === '=== Device Information ===') {
      return 'device';
    } else if ((m = /^ {2}Device (\d+): "(.*)" UUID: (\S+)$/.exec(msg))) {
      log.availableDevices.push({ index: Number(m[1]), name: m[2], uuid: m[3] });
    } else if ((m = /^Selected Device: (.+)$/.exec(msg))) {
      log.device.name = m[1];
    } else if ((m = /^Selected Device ID: (\d+)$/.exec(msg))) {
      log.device.id = Number(m[1]);
    } else if ((m = /^Selected Device UUID: (\S+)$/.exec(msg))) {
      log.device.uuid = m[1];
    } else if ((m = /^Compute Capability: (\d+\.\d+)$/.exec(msg))) {
      log.device.cc = m[1];
    } else if ((m = /^SMs: (\d+)$/.exec(msg))) {
      log.device.sms = Number(m[1]);
    } else if ((m = /^Device Global Memory: (\d+) MiB$/.exec(msg))) {
      log.device.memoryMiB = Number(m[1]);
    } else if (msg === 'Start parsing network model.') {
      return 'parsing-started';
    } else if ((m = new RegExp(`^Finished parsing network model\\. Parse time: ${NUMBER}`).exec(msg))) {
      log.parseSeconds = num(m[1]);
      return 'parsing-finished';
    } else if (/^(Local|Global) timing cache in use/.test(msg)) {
      return 'building';
    } else if ((m = /^Loaded (\d+) bytes of (?:timing )?cache from (?:file: )?(.+)$/.exec(msg))) {
      log.timingCache.loadedBytes = Number(m[1]);
      log.timingCache.loadedFrom = m[2];
      return 'building';
    } else if ((m = /^Could not read (?:timing )?cache from: (.+?)\. A new (?:timing )?cache will be generated and written\.$/.exec(msg))) {
      log.timingCache.missing = true;
      log.timingCache.loadedBytes = 0;
      log.timingCache.loadedFrom = m[1];
      return 'building';
    } else if ((m = /^Saved (\d+) bytes of (?:timing )?cache to (?:file: )?(.+)$/.exec(msg))) {
      log.timingCache.savedBytes = Number(m[1]);
      log.timingCache.savedTo = m[2];
      return 'cache-saved';
    } else if ((m = /^Serialized (\d+) timing cache entries$/.exec(msg))) {
      log.timingCache.entries = Number(m[1]);
    } else if ((m = new RegExp(`^Engine generation completed in ${NUMBER} seconds\\.$`).exec(msg))) {
      log.engineGenerationSeconds = num(m[1]);
    } else if ((m = new RegExp(`^Engine built in ${NUMBER} sec\\.$`).exec(msg))) {
      log.buildSeconds = num(m[1]);
      return 'engine-built';
    } else if ((m = new RegExp(`^Created engine with size: ${NUMBER} MiB$`).exec(msg))) {
      log.engineSizeMiB = num(m[1]);
    } else if ((m = /^Loaded engine size: (\d+) MiB$/.exec(msg))) {
      log.loadedEngineSizeMiB = Number(m[1]);
    } else if ((m = new RegExp(`^Engine loaded in ${NUMBER} sec\\.$`).exec(msg))) {
      log.loadSeconds = num(m[1]);
      return 'engine-loaded';
    } else if ((m = new RegExp(`^Engine deserialized in ${NUMBER} sec\\.$`).exec(msg))) {
      log.deserializeSeconds = num(m[1]);
    } else if ((m = /^\[MemUsageChange\] .*now: CPU \d+, GPU (\d+) \(MiB\)$/.exec(msg))) {
      log.memory.peakGpuMiB = Math.max(log.memory.peakGpuMiB ?? 0, Number(m[1]));
    } else if ((m = /^\[MemUsageStats\] Peak memory usage of TRT CPU\/GPU memory allocators: CPU \d+ MiB, GPU (\d+) MiB$/.exec(msg))) {
      log.memory.builderPeakGpuMiB = Number(m[1]);
    } else if ((m = new RegExp(`^Created execution context with device memory size: ${NUMBER} MiB$`).exec(msg))) {
      log.memory.contextMiB = num(m[1]);
    } else if (msg.startsWith('Skipped inference phase')) {
      log.skippedInference = true;
    } else if (msg === 'Starting inference') {
      return 'inference-started';
    } else {
      this.onPerformance(msg);
    }
    return undefined;
  }

  private onPerformance(msg: string): void {
    let m: RegExpExecArray | null;
    const perf: PerformanceSummary = {};
    if ((m = new RegExp(`^Throughput: ${NUMBER} qps$`).exec(msg))) {
      perf.throughputQps = num(m[1]);
    } else if ((m = /^(Latency|Enqueue Time|H2D Latency|GPU Compute Time|D2H Latency): (min = .*)$/.exec(msg))) {
      const stats = parseStats(m[2]);
      if (stats) perf[STAT_FIELDS[m[1]]] = stats;
    } else if ((m = new RegExp(`^Total Host Walltime: ${NUMBER} s$`).exec(msg))) {
      perf.totalHostWalltimeSec = num(m[1]);
    } else if ((m = new RegExp(`^Total GPU Compute Time: ${NUMBER} s$`).exec(msg))) {
      perf.totalGpuComputeSec = num(m[1]);
    } else if ((m = /^Warmup completed (\d+) queries over/.exec(msg))) {
      perf.warmupQueries = Number(m[1]);
    } else if ((m = /^Timing trace has (\d+) queries over/.exec(msg))) {
      perf.timedQueries = Number(m[1]);
    }
    if (Object.keys(perf).length > 0) this.log.performance = { ...this.log.performance, ...perf };
  }
}

const STAT_FIELDS: Record<string, 'latency' | 'enqueueTime' | 'h2dLatency' | 'gpuComputeTime' | 'd2hLatency'> = {
  Latency: 'latency',
  'Enqueue Time': 'enqueueTime',
  'H2D Latency': 'h2dLatency',
  'GPU Compute Time': 'gpuComputeTime',
  'D2H Latency': 'd2hLatency',
};

/** `min = 1 ms, max = 2 ms, mean = ..., median = ..., percentile(90%) = ... ms, ...` */
export function parseStats(text: string): TimingStats | null {
  const stats: Partial<TimingStats> & { percentiles: Record<string, number> } = { percentiles: {} };
  for (const part of text.split(', ')) {
    const m = STAT.exec(part.trim());
    if (!m) return null;
    if (m[2] !== undefined) stats.percentiles[String(Number(m[2]))] = num(m[3]);
    else stats[m[1] as 'min' | 'max' | 'mean' | 'median'] = num(m[3]);
  }
  if (stats.min === undefined || stats.max === undefined || stats.mean === undefined || stats.median === undefined) return null;
  return stats as TimingStats;
}

/** The report's LatencyStats from trtexec's stats; null unless the 90/95/99 percentiles were printed. */
export function toLatencyStats(stats: TimingStats | undefined): LatencyStats | null {
  if (!stats) return null;
  const { 90: p90, 95: p95, 99: p99 } = stats.percentiles;
  if (p90 === undefined || p95 === undefined || p99 === undefined) return null;
  return { min: stats.min, mean: stats.mean, median: stats.median, p90, p95, p99, max: stats.max };
}

function num(text: string): number {
  const t = text.toLowerCase();
  if (t === 'inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  return Number(text);
}

/** Keeps the first and the latest messages of a flood (a verbose build can warn thousands of times). */
function pushCapped(list: string[], message: string): void {
  if (list.length >= MAX_MESSAGES) list.splice(MAX_MESSAGES / 4, 1);
  list.push(message);
}
