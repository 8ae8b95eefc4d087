/**
 * Writes ONNX Runtime's optimised model in a child process (optimizer-child.ts). Three reasons for
 * the child:
 * - ONNX Runtime logs from native code straight to stderr (no log callback in onnxruntime-node);
 *   only a child's stderr can be captured, and its warning that an optimised model "may contain
 *   hardware specific optimizations" belongs in the build's warnings.
 * - Optimising a large model takes long and cannot be interrupted in-process; a child can be killed
 *   the moment the build is cancelled.
 * - A model that crashes the native code takes down the child, not the worker.
 * Starting Node and loading onnxruntime-node costs ~170 ms, 35x a tiny model's optimisation, so one
 * child serves a worker's builds one at a time (docs/performance.md). It is replaced after a crash,
 * a cancel or a timeout (killed), and after RECYCLE_AFTER_BUILDS builds, so that whatever ONNX
 * Runtime leaks does not accumulate.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ANSWER_MARK, type OptimizerAnswer, type OptimizerRequest } from './optimizer-child';
import type { GraphOptimizationLevel } from './session';

export interface OptimizeRequest {
  modelPath: string;
  outputPath: string;
  level: GraphOptimizationLevel;
}

export interface OptimizeResult {
  inputNames: string[];
  outputNames: string[];
  /** ONNX Runtime's warning messages, without timestamps and colours. */
  warnings: string[];
  /** Every line ONNX Runtime wrote to stderr during this build, cleaned the same way. */
  logLines: string[];
}

/** ONNX Runtime failed on the model; its message is in `message`. */
export class OptimizeFailedError extends Error {
  override name = 'OptimizeFailedError';
}

/** A fresh child after this many builds bounds what native code may leak. */
export const RECYCLE_AFTER_BUILDS = 200;
/** Keep at most this many of one build's log lines; a chatty model must not fill the worker's memory. */
const MAX_LOG_LINES = 10_000;

type Child = ChildProcessByStdio<Writable, null, Readable>;

interface Pending {
  /** The child serving it: a killed child's late lines and exit belong to no later build. */
  child: Child;
  id: number;
  lines: string[];
  onLogLine: (line: string) => void;
  settle: (answer: OptimizerAnswer | Error) => void;
}

/** The compiled child next to this file, else (ts-jest, tsx) its TypeScript source through tsx. */
function childCommand(): string[] {
  const compiled = path.join(__dirname, 'optimizer-child.js');
  if (existsSync(compiled)) return [compiled];
  return ['--require', 'tsx/cjs', path.join(__dirname, 'optimizer-child.ts')];
}

export class OptimizerProcess {
  private child: Child | null = null;
  private pending: Pending | null = null;
  private served = 0;
  private nextId = 1;
  private busy = false;

  /** Optimises one model; one request at a time (a worker builds one thing at a time). */
  async optimize(request: OptimizeRequest, signal: AbortSignal, onLogLine: (line: string) => void = () => {}): Promise<OptimizeResult> {
    signal.throwIfAborted();
    if (this.busy) throw new Error('Expected one optimisation at a time but received a second while one runs');
    this.busy = true;
    try {
      return await this.run(request, signal, onLogLine);
    } finally {
      this.busy = false;
    }
  }

  /** Ends the child (the worker is stopping). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** The child's pid, while one runs (tests use it to see that builds share it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async run(request: OptimizeRequest, signal: AbortSignal, onLogLine: (line: string) => void): Promise<OptimizeResult> {
    if (this.served >= RECYCLE_AFTER_BUILDS) await this.close();
    const child = this.child ?? this.start();
    this.served += 1;
    const id = this.nextId++;
    const lines: string[] = [];
    const answer = await new Promise<OptimizerAnswer | Error>((resolve) => {
      this.pending = { child, id, lines, onLogLine, settle: resolve };
      const onAbort = () => {
        // Native code cannot be interrupted: the child goes, and the next build starts a fresh one.
        this.discard(child);
        resolve(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.settle = (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const message: OptimizerRequest = { id, ...request };
      child.stdin.write(`${JSON.stringify(message)}\n`);
      child.ref();
    });
    this.pending = null;
    if (this.child === child) child.unref();
    if (signal.aborted) throw signal.reason;
    if (answer instanceof Error) throw answer;
    if (!answer.ok) throw new OptimizeFailedError(answer.message);
    return {
      inputNames: answer.inputNames,
      outputNames: answer.outputNames,
      warnings: lines.filter(isWarning).map((line) => `ONNX Runtime: ${logMessage(line)}`),
      logLines: lines,
    };
  }

  private start(): Child {
    const child = spawn(process.execPath, childCommand(), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.served = 0;
    // An idle child must not keep a process (a test, the CLI) alive; it is ref'd while it works.
    child.unref();
    (child.stderr as Readable & { unref?: () => void }).unref?.();
    (child.stdin as Writable & { unref?: () => void }).unref?.();
    const tail: string[] = [];
    createInterface({ input: child.stderr }).on('line', (raw) => {
      if (raw.startsWith(ANSWER_MARK)) {
        const answer = JSON.parse(raw.slice(ANSWER_MARK.length)) as OptimizerAnswer;
        if (this.pending?.child === child && this.pending.id === answer.id) this.pending.settle(answer);
        return;
      }
      const line = cleanLogLine(raw);
      if (!line) return;
      tail.push(line);
      if (tail.length > 5) tail.shift();
      const pending = this.pending;
      if (pending?.child === child && pending.lines.length < MAX_LOG_LINES) {
        pending.lines.push(line);
        pending.onLogLine(line);
      }
    });
    child.stdin.on('error', () => undefined); // a dead child's pipe: reported by 'exit' below
    child.on('error', (err) => this.fail(child, err));
    // Its last lines (why it crashed) are read before the build is failed with them.
    const stderrClosed = new Promise((resolve) => child.stderr.once('close', resolve));
    child.on('exit', (code, killedBy) => {
      void stderrClosed.then(() => {
        const how = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`;
        const last = tail.join(' | ');
        this.fail(child, new Error(`The ONNX Runtime optimiser process ${how} before answering${last ? `: ${last}` : ''}`));
      });
    });
    return child;
  }

  /** The child died or could not start: the build it was serving fails; the next one starts another. */
  private fail(child: Child, err: Error): void {
    if (this.child === child) this.child = null;
    if (this.pending?.child === child) this.pending.settle(err);
  }

  private discard(child: Child): void {
    if (this.child === child) this.child = null;
    child.kill('SIGKILL');
  }
}

// ONNX Runtime colours its log lines (ESC[0;93m ... ESC[m) and prefixes a timestamp.
const ANSI = /\u001b\[[0-9;]*m/g;
const ORT_LINE = /^\S+ \S+ \[([VIWEF]):onnxruntime:[^\]]*\]\s*(.*)$/;

export function cleanLogLine(line: string): string {
  return line.replace(ANSI, '').trim();
}

function isWarning(line: string): boolean {
  return ORT_LINE.exec(line)?.[1] === 'W';
}

/** `2026-... [W:onnxruntime:, inference_session.cc:3040 Initialize] Serializing ...` -> `Serializing ...` */
export function logMessage(line: string): string {
  return ORT_LINE.exec(line)?.[2] ?? line;
}
