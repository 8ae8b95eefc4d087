/**
 * Bench child processes (API, bare server, load generator), each on its own event loop. They run
 * TypeScript through tsx, take their settings over IPC (never from the environment), answer
 * `{ id, result | error }` to `{ id, ...job }` messages, and exit when the parent goes away.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const SECOND = 1000;

export interface BenchChild {
  name: string;
  pid: number;
  /** What the child sent with its `ready` message. */
  ready: Record<string, unknown>;
  call<T>(job: Record<string, unknown>, timeoutMs: number): Promise<T>;
  stop(): Promise<void>;
}

interface Reply {
  id?: number;
  type?: string;
  result?: unknown;
  error?: string;
}

export async function startChild(name: string, script: string, setup: Record<string, unknown>, timeoutMs = 60 * SECOND): Promise<BenchChild> {
  const proc = fork(path.join(__dirname, '..', 'processes', script), [], {
    // tsx's CommonJS hook only: `--import tsx` also starts an ESM loader thread, ~20 MB of RSS
    // that is not the server's (Kiln is CommonJS).
    execArgv: ['--require', 'tsx/cjs'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(proc, 'exit');
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  proc.on('message', (message: Reply) => {
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`${name}: ${message.error}`));
    else waiter?.resolve(message.result);
  });
  proc.on('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before answering`));
    pending.clear();
  });

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10 * SECOND);
    await exited;
    clearTimeout(timer);
  };

  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
    proc.on('message', (message: Reply & Record<string, unknown>) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start: ${message.error}`));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} while starting`));
    });
    proc.send({ type: 'setup', ...setup });
  }).catch(async (err) => {
    await stop();
    throw err;
  });

  return {
    name,
    pid: proc.pid!,
    ready,
    call<T>(job: Record<string, unknown>, callTimeoutMs: number): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name} did not finish ${String(job.kind)} within ${callTimeoutMs} ms`));
        }, callTimeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v as T)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        proc.send({ id, ...job });
      });
    },
    stop,
  };
}

/** For child scripts: waits for the parent's setup message; ends the process when the parent leaves. */
export function childSetup<T>(onExit: () => Promise<void>): Promise<T> {
  let leaving = false;
  const leave = () => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(1), 5 * SECOND).unref();
    onExit().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('disconnect', leave);
  process.once('SIGTERM', leave);
  process.once('SIGINT', leave);
  return new Promise<T>((resolve) => {
    process.once('message', (message: { type?: string } & T) => resolve(message));
  });
}

/** For child scripts: answers `{ id, ...job }` messages with `handle(job)`. */
export function serveJobs(handle: (job: Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (message: { id?: number } & Record<string, unknown>) => {
    if (message.id === undefined) return;
    handle(message).then(
      (result) => process.send?.({ id: message.id, result }),
      (err: unknown) => process.send?.({ id: message.id, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
}
