/**
 * Writes ONNX Runtime's optimised model in a child process. Three reasons for the child:
 * - ONNX Runtime logs from native code straight to stderr (no log callback in onnxruntime-node);
 *   only a child's stderr can be captured, and its warning that an optimised model "may contain
 *   hardware specific optimizations" belongs in the build's warnings.
 * - Optimising a large model takes long and cannot be interrupted in-process; a child can be killed
 *   the moment the build is cancelled.
 * - A model that crashes the native code takes down the child, not the worker.
 */
import { spawn } from 'node:child_process';
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
  /** Every line ONNX Runtime wrote to stderr, cleaned the same way. */
  logLines: string[];
}

/** ONNX Runtime failed on the model; its message is in `message`. */
export class OptimizeFailedError extends Error {
  override name = 'OptimizeFailedError';
}

/** The child: plain JavaScript, so it runs the same under ts-jest, tsx and the compiled worker. */
const CHILD_SCRIPT = `
const [ortPath, requestJson] = process.argv.slice(1);
const request = JSON.parse(requestJson);
const reply = (message) => process.stdout.write(JSON.stringify(message));
(async () => {
  const ort = require(ortPath);
  const session = await ort.InferenceSession.create(request.modelPath, {
    graphOptimizationLevel: request.level,
    optimizedModelFilePath: request.outputPath,
    logSeverityLevel: 2,
    logId: 'kiln-build',
  });
  const names = { inputNames: session.inputNames, outputNames: session.outputNames };
  await session.release();
  reply({ ok: true, ...names });
})().catch((err) => {
  reply({ ok: false, message: String((err && err.message) || err) });
  process.exitCode = 1;
});
`;

/** Keep at most this much of the child's stderr; a chatty model must not fill the worker's memory. */
const MAX_STDERR_CHARS = 1 << 20;

export function optimizeInChildProcess(
  request: OptimizeRequest,
  signal: AbortSignal,
  onLogLine: (line: string) => void = () => {},
): Promise<OptimizeResult> {
  signal.throwIfAborted();
  const ortPath = require.resolve('onnxruntime-node');
  return new Promise<OptimizeResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, ortPath, JSON.stringify(request)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += chunk;
    });
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, killedBy) => {
      signal.removeEventListener('abort', onAbort);
      const logLines = stderr.split('\n').map(cleanLogLine).filter(Boolean);
      logLines.forEach((line) => onLogLine(line));
      if (signal.aborted) return reject(signal.reason);
      let reply: { ok?: boolean; message?: string; inputNames?: string[]; outputNames?: string[] } = {};
      try {
        reply = JSON.parse(stdout);
      } catch {
        // No reply: the child died before answering; say how, with the end of its stderr.
      }
      if (reply.ok && code === 0) {
        return resolve({
          inputNames: reply.inputNames ?? [],
          outputNames: reply.outputNames ?? [],
          warnings: logLines.filter(isWarning).map((line) => `ONNX Runtime: ${logMessage(line)}`),
          logLines,
        });
      }
      if (typeof reply.message === 'string') return reject(new OptimizeFailedError(reply.message));
      const how = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`;
      const tail = logLines.slice(-5).join(' | ');
      reject(new Error(`The ONNX Runtime optimiser process ${how} before answering${tail ? `: ${tail}` : ''}`));
    });
  });
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
