/**
 * The ONNX Runtime optimiser process (started by optimizer-process.ts, one per worker, kept alive
 * between builds). It reads one request per line on stdin, optimises the model, and answers on
 * stderr, the same stream ONNX Runtime logs to from native code: one stream keeps the answer after
 * every log line of its build, so the parent knows which lines belong to which build.
 * It imports nothing of Kiln's, so it starts as fast as Node and onnxruntime-node allow.
 */
import { createInterface } from 'node:readline';

/** Starts the line that carries an answer; ONNX Runtime's lines never start with a NUL byte. */
export const ANSWER_MARK = '\u0000kiln-optimizer-answer ';

export interface OptimizerRequest {
  id: number;
  modelPath: string;
  outputPath: string;
  level: NonNullable<import('onnxruntime-node').InferenceSession.SessionOptions['graphOptimizationLevel']>;
}

export type OptimizerAnswer =
  | { id: number; ok: true; inputNames: string[]; outputNames: string[] }
  | { id: number; ok: false; message: string };

function answer(message: OptimizerAnswer): void {
  // Writes to a pipe are synchronous on Linux and macOS, so this follows ONNX Runtime's own lines.
  process.stderr.write(`${ANSWER_MARK}${JSON.stringify(message)}\n`);
}

async function optimize(ort: typeof import('onnxruntime-node'), request: OptimizerRequest): Promise<OptimizerAnswer> {
  try {
    const session = await ort.InferenceSession.create(request.modelPath, {
      graphOptimizationLevel: request.level,
      optimizedModelFilePath: request.outputPath,
      logSeverityLevel: 2,
      logId: 'kiln-build',
    });
    const names = { inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
    await session.release();
    return { id: request.id, ok: true, ...names };
  } catch (err) {
    return { id: request.id, ok: false, message: String((err as Error)?.message ?? err) };
  }
}

function main(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  // The parent sends one request at a time; a queue keeps the order even if it did not.
  let chain = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => answer(await optimize(ort, JSON.parse(line) as OptimizerRequest)));
  });
  // The worker went away (or closed us): nothing more will come.
  lines.on('close', () => void chain.then(() => process.exit(0)));
}

if (require.main === module) main();
