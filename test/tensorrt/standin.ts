import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TrtexecLogReader, type LineEvent, type TrtexecLog } from '../../src/worker/toolchains/tensorrt/log-parser';

/** The trtexec stand-in (test/trtexec-standin): a test double of NVIDIA's trtexec, not TensorRT. */
export const STANDIN = join(__dirname, '..', 'trtexec-standin', 'trtexec.js');

/** Who the stand-in plays. */
export interface Played {
  trt: string;
  cc: string;
  device?: string;
  misbehave?: string;
}

export const RTX_4080: Played = { trt: '10.9.0', cc: '8.9', device: 'NVIDIA GeForce RTX 4080' };
export const T4: Played = { trt: '8.6.1', cc: '7.5', device: 'Tesla T4' };

export interface StandinRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  log: TrtexecLog;
  output: string;
}

export function standinEnv(played: Played): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_STANDIN_TRT: played.trt, KILN_STANDIN_CC: played.cc, KILN_STANDIN_MS_PER_TACTIC: '1' };
  if (played.device) env.KILN_STANDIN_DEVICE = played.device;
  if (played.misbehave) env.KILN_STANDIN_MISBEHAVE = played.misbehave;
  else delete env.KILN_STANDIN_MISBEHAVE;
  return env;
}

/**
 * Runs the stand-in the way the worker runs trtexec: no shell, stdout and stderr streamed into one
 * log reader. `onEvent` sees every line as it arrives, with the child, e.g. to cancel it.
 */
export function runStandin(args: string[], played: Played, onEvent?: (event: LineEvent, child: ChildProcess) => void): Promise<StandinRun> {
  return runTrtexec(STANDIN, args, standinEnv(played), onEvent);
}

/** Runs any trtexec, the stand-in or a real one, with its output streamed into a log reader. */
export function runTrtexec(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  onEvent?: (event: LineEvent, child: ChildProcess) => void,
): Promise<StandinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const reader = new TrtexecLogReader();
    let output = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        output += chunk;
        for (const event of reader.feed(chunk, stream)) onEvent?.(event, child);
      });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, log: reader.end(), output }));
  });
}
