/** The highest rate a server sustains: autocannon with a fixed number of connections, as fast as it answers. */
import autocannon from 'autocannon';

export interface MaxOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface MaxResult {
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** autocannon's latencies, whole milliseconds. */
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export async function runMax(options: MaxOptions): Promise<MaxResult> {
  const result = await autocannon({
    url: options.url,
    headers: options.headers,
    connections: options.connections,
    duration: options.durationSeconds,
    pipelining: 1,
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
}
