/**
 * Runs trtexec once: no shell (every argument is one argv entry), stdout and stderr read line by
 * line into one TrtexecLogReader and handed to the caller as they arrive, and a cancel that
 * trtexec cannot ignore: SIGTERM when the signal aborts, SIGKILL if it is still running a few
 * seconds later. The promise settles only once the process has exited, so a cancelled build never
 * leaves a trtexec behind on the GPU.
 */
import { spawn } from 'node:child_process';
import { TrtexecLogReader, type LineEvent, type TrtexecLog } from './log-parser';

export interface RunTrtexecOptions {
  /** Environment added to the worker's own (e.g. CUDA_VISIBLE_DEVICES). (Default: none) */
  env?: Record<string, string>;
  /** Aborting it stops trtexec: SIGTERM, then SIGKILL after killGraceMs. */
  signal?: AbortSignal;
  /** How long trtexec may take to exit after SIGTERM before it is killed, in ms. (Default: 5000) */
  killGraceMs?: number;
  /** Every complete output line, raw, with what the log reader made of it. */
  onLine?: (line: string, event: LineEvent) => void;
  /** Called once trtexec runs, with its process id (the idle guard tells it from other GPU users). */
  onSpawn?: (pid: number) => void;
}

export interface TrtexecRun {
  /** Exit status; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when `signal` aborted the run (the process was asked to stop). */
  aborted: boolean;
  /** True when SIGTERM was not enough. */
  killed: boolean;
  log: TrtexecLog;
  /** The last lines, for error messages when the log has no `[E]` line. */
  tail: string[];
}

const TAIL_LINES = 20;

export function runTrtexec(binary: string, args: string[], options: RunTrtexecOptions = {}): Promise<TrtexecRun> {
  const { signal } = options;
  const killGraceMs = options.killGraceMs ?? 5000;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error(`trtexec not started: ${String(signal.reason)}`));
      return;
    }
    // The worker's environment passes through, as a shell would pass it; only the pinning is added.
    const child = spawn(binary, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const reader = new TrtexecLogReader();
    const tail: string[] = [];
    const pending = { stdout: '', stderr: '' };
    let aborted = false;
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;

    const emit = (line: string) => {
      const clean = line.replace(/\r$/, '');
      const event = reader.line(clean);
      tail.push(clean);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onLine?.(clean, event);
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        const lines = (pending[stream] + chunk).split('\n');
        pending[stream] = lines.pop() ?? '';
        for (const line of lines) emit(line);
      });
    }
    const onAbort = () => {
      aborted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, killGraceMs);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      reject(new Error(`trtexec at ${binary} could not be started: ${err.message}`));
    });
    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      for (const stream of ['stdout', 'stderr'] as const) if (pending[stream]) emit(pending[stream]);
      resolve({ code, signal: exitSignal, aborted, killed, log: reader.end(), tail });
    });
  });
}
