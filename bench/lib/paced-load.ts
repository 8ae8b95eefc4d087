/**
 * An open-loop load generator: requests start at a fixed rate whatever the server does, the way
 * independent clients arrive (autocannon's `overallRate` instead sends each connection's quota
 * for the second back to back at the start of the second, which measures bursts, not a rate).
 *
 * Every millisecond timer tick starts the requests that have come due (2 per tick at 2,000/s).
 * A request goes out on an idle keep-alive connection, or a new one; its latency runs from the
 * tick that starts it to the end of its response, so time spent waiting for a connection counts
 * (the timer's own lateness does not: it is reported apart, as maxStartLagMs). Responses are
 * read by Content-Length, which both servers under test always send.
 */
import net from 'node:net';
import { latencyStats } from '../../src/worker/benchmark';
import type { LatencyStats } from '../../src/core/report';

export interface PacedOptions {
  url: string;
  headers: Record<string, string>;
  /** Requests started per second. */
  rate: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Time at the same rate before measuring: opens connections and warms the JIT (Default: 2000). */
  warmupMs?: number;
  /** Most connections opened (Default: 256); past it, requests wait for one. */
  maxConnections?: number;
}

export interface PacedResult {
  rate: number;
  /** Requests started per second in the measured window, as achieved. */
  achievedRate: number;
  measured: number;
  non2xx: number;
  errors: number;
  /** Connections opened, warm-up included: a burst (a stalled server, or generator) opens more. */
  connections: number;
  /** How late the timer started a measured request, worst case (ms): the generator's own jitter. */
  maxStartLagMs: number;
  latencyMs: LatencyStats;
}

interface Connection {
  socket: net.Socket;
  buffer: Buffer | null;
  inFlight: { startedAt: number; measured: boolean } | null;
}

export function runPaced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.url);
  const headerLines = Object.entries({ Host: url.host, Connection: 'keep-alive', ...options.headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\n${headerLines}\r\n`, 'latin1');
  const warmupMs = options.warmupMs ?? 2000;
  const maxConnections = options.maxConnections ?? 256;
  const interval = 1000 / options.rate;
  const total = Math.floor(((warmupMs + options.durationMs) * options.rate) / 1000);
  const firstMeasured = Math.floor((warmupMs * options.rate) / 1000);

  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const waiting: { startedAt: number; measured: boolean }[] = [];
  const latencies: number[] = [];
  let started = 0;
  let finished = 0;
  let non2xx = 0;
  let errors = 0;
  let maxStartLagMs = 0;
  let measureStart = 0;
  let measureEnd = 0;
  let opened = 0;

  return new Promise<PacedResult>((resolve) => {
    const t0 = performance.now();

    const done = () => {
      for (const c of all) c.socket.destroy();
      const measured = total - firstMeasured;
      resolve({
        rate: options.rate,
        achievedRate: ((measured - 1) * 1000) / Math.max(1e-9, measureEnd - measureStart),
        measured,
        non2xx,
        errors,
        connections: opened,
        maxStartLagMs,
        latencyMs: latencyStats(latencies.length ? latencies : [Number.NaN]),
      });
    };

    const complete = (c: Connection, status: number | null) => {
      const job = c.inFlight!;
      c.inFlight = null;
      if (status === null) errors++;
      else if (status < 200 || status > 299) non2xx++;
      if (job.measured && status !== null) latencies.push(performance.now() - job.startedAt);
      finished++;
      if (finished === total) return done();
      const next = waiting.shift();
      if (next && !c.socket.destroyed) send(c, next);
      else if (!c.socket.destroyed) idle.push(c);
      else if (next) waiting.unshift(next), dispatchWaiting();
    };

    const onData = (c: Connection, chunk: Buffer) => {
      c.buffer = c.buffer ? Buffer.concat([c.buffer, chunk]) : chunk;
      const headerEnd = c.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = c.buffer.toString('latin1', 0, headerEnd);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const end = headerEnd + 4 + length;
      if (c.buffer.length < end) return;
      const status = Number(head.slice(9, 12));
      c.buffer = c.buffer.length > end ? c.buffer.subarray(end) : null;
      complete(c, status);
    };

    const open = (): Connection => {
      const socket = net.connect(Number(url.port), url.hostname);
      socket.setNoDelay(true);
      const c: Connection = { socket, buffer: null, inFlight: null };
      all.add(c);
      opened++;
      socket.on('data', (chunk: Buffer) => onData(c, chunk));
      const lost = () => {
        all.delete(c);
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        if (c.inFlight) complete(c, null);
      };
      socket.on('error', lost);
      socket.on('close', lost);
      return c;
    };

    const send = (c: Connection, job: { startedAt: number; measured: boolean }) => {
      c.inFlight = job;
      c.socket.write(request);
    };

    const dispatch = (job: { startedAt: number; measured: boolean }) => {
      const c = idle.pop() ?? (all.size < maxConnections ? open() : null);
      if (c) send(c, job);
      else waiting.push(job);
    };

    const dispatchWaiting = () => {
      while (waiting.length && (idle.length || all.size < maxConnections)) dispatch(waiting.shift()!);
    };

    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      while (started < due) {
        if (started === firstMeasured) measureStart = now;
        if (started === total - 1) measureEnd = now;
        if (started >= firstMeasured) maxStartLagMs = Math.max(maxStartLagMs, now - (t0 + started * interval));
        dispatch({ startedAt: now, measured: started >= firstMeasured });
        started++;
      }
      if (started < total) setTimeout(tick, Math.max(0, t0 + started * interval - performance.now()));
    };
    tick();
  });
}
