/**
 * Resolve under load, API and bare server side by side, from the load generator's own process:
 * latency at a fixed rate (open loop), then the highest rate each sustains (autocannon, a fixed
 * number of connections, after a warm-up run). Any non-2xx answer or error fails the run: a fast
 * 401 or 404 would measure nothing.
 *
 * Each run also records the server's CPU time per request (what a neighbour cannot distort) and
 * the CPU other processes used meanwhile. The machine is shared, so when other processes took
 * more than `quietCores` during an attempt, the whole set is measured again (up to `attempts`
 * times) and the quietest attempt is kept; every attempt's disturbance is in the details.
 */
import type { BenchChild } from './child';
import { processCpuSeconds, type CpuMeter, type CpuWindow } from './cpu-meter';
import type { MaxOptions, MaxResult } from './max-load';
import type { PacedOptions, PacedResult } from './paced-load';

export interface ResolveSettings {
  rate: number;
  pacedSeconds: number;
  pacedWarmupSeconds: number;
  connections: number;
  maxSeconds: number;
  maxWarmupSeconds: number;
  attempts: number;
  /** Other processes' CPU (in cores) below which an attempt counts as undisturbed. */
  quietCores: number;
}

export interface ServerUnderLoad {
  name: string;
  url: string;
  pid: number;
}

export interface ServerMeasurement {
  paced: PacedResult & { cpu: CpuWindow };
  max: MaxResult & { cpu: CpuWindow; serverCpuMicrosPerRequest: number };
}

export interface ResolveAttempt {
  servers: Record<string, ServerMeasurement>;
  /** The most CPU other processes took during any run of the attempt, in cores. */
  otherCores: number;
}

const SECOND = 1000;

export async function measureResolve(
  load: BenchChild,
  meter: CpuMeter,
  servers: ServerUnderLoad[],
  headers: Record<string, string>,
  s: ResolveSettings,
  log: (line: string) => void,
): Promise<{ chosen: ResolveAttempt; attempts: ResolveAttempt[] }> {
  const attempts: ResolveAttempt[] = [];
  for (let i = 0; i < s.attempts; i++) {
    const attempt = await measureOnce(load, meter, servers, headers, s);
    attempts.push(attempt);
    if (attempt.otherCores <= s.quietCores) break;
    log(`other processes used ${attempt.otherCores.toFixed(2)} cores during attempt ${i + 1}${i + 1 < s.attempts ? '; measuring again' : ''}`);
  }
  const chosen = attempts.reduce((a, b) => (b.otherCores < a.otherCores ? b : a));
  return { chosen, attempts };
}

async function measureOnce(load: BenchChild, meter: CpuMeter, servers: ServerUnderLoad[], headers: Record<string, string>, s: ResolveSettings): Promise<ResolveAttempt> {
  const paced: Record<string, ServerMeasurement['paced']> = {};
  for (const server of servers) {
    const options: PacedOptions = { url: server.url, headers, rate: s.rate, durationMs: s.pacedSeconds * SECOND, warmupMs: s.pacedWarmupSeconds * SECOND };
    const window = meter.start();
    const result = check(server.name, await load.call<PacedResult>({ kind: 'paced', options }, (s.pacedSeconds + s.pacedWarmupSeconds + 60) * SECOND));
    paced[server.name] = { ...result, cpu: window.end() };
  }
  const result: Record<string, ServerMeasurement> = {};
  for (const server of servers) {
    const base: Omit<MaxOptions, 'durationSeconds'> = { url: server.url, headers, connections: s.connections };
    check(server.name, await load.call<MaxResult>({ kind: 'max', options: { ...base, durationSeconds: s.maxWarmupSeconds } }, (s.maxWarmupSeconds + 60) * SECOND));
    const window = meter.start();
    const cpu0 = processCpuSeconds(server.pid);
    const max = check(server.name, await load.call<MaxResult>({ kind: 'max', options: { ...base, durationSeconds: s.maxSeconds } }, (s.maxSeconds + 60) * SECOND));
    const serverCpuMicrosPerRequest = ((processCpuSeconds(server.pid) - cpu0) * 1e6) / max.total;
    result[server.name] = { paced: paced[server.name], max: { ...max, cpu: window.end(), serverCpuMicrosPerRequest } };
  }
  const otherCores = Math.max(...Object.values(result).flatMap((m) => [m.paced.cpu.otherCores, m.max.cpu.otherCores]));
  return { servers: result, otherCores };
}

function check<T extends { non2xx: number; errors: number }>(name: string, result: T): T {
  if (result.non2xx || result.errors) {
    throw new Error(`Expected only 2xx answers from ${name} under load but received ${result.non2xx} non-2xx and ${result.errors} errors`);
  }
  return result;
}
