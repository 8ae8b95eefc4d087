/**
 * Uploads a file as a raw request body: streamed from disk and hashed on the way (the API must
 * answer with the same sha256), with progress for files big enough to take a moment. Progress goes
 * to stderr, so stdout keeps the answer: a bar on a terminal, a plain line a second in a pipe or a
 * CI log, nothing in --json mode off a terminal.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { VerifyingHasher } from '../storage/verifying-hasher';
import type { QueryValue } from './client';
import type { CliContext, OutputStream } from './context';
import { UsageError } from './errors';
import { formatBytes } from './format';

/** Smaller files go up in a blink; a progress display would only flicker. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;
const LINE_INTERVAL_MS = 1000;
const BAR_INTERVAL_MS = 100;

export interface UploadRequest {
  file: string;
  /** API path, e.g. /v1/models. */
  path: string;
  query?: Record<string, QueryValue>;
  /** What the file should be, for the message when it is missing: "an ONNX file". */
  what: string;
}

export async function uploadFile<T extends { sha256: string }>(ctx: CliContext, request: UploadRequest): Promise<T> {
  const { file } = request;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new UsageError(`Expected ${request.what} to push but "${file}" is ${info ? 'not a file' : 'missing'}`);
  const name = path.basename(file);
  // 1 MiB reads: a 45 MB model passes the hashing stream in 45 chunks instead of 700.
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const hasher = new VerifyingHasher(name);
  source.on('error', (err) => hasher.destroy(err));
  source.pipe(hasher);
  const progress = info.size >= PROGRESS_MIN_BYTES ? chooseUploadProgress(ctx.io.stderr, ctx.json, name, info.size) : null;
  const timer = progress ? setInterval(() => progress.update(hasher.size), progress.intervalMs) : null;
  let stopped = false;
  // Stopped when the last byte is sent: the API's reading of the file that follows is not upload time.
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearInterval(timer);
    progress?.stop(hasher.size);
  };
  hasher.once('end', stop);
  let answer: T;
  try {
    answer = await ctx.client.json<T>('POST', request.path, {
      query: request.query,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size },
      body: hasher,
    });
  } finally {
    stop();
  }
  if (hasher.sha256 && hasher.sha256 !== answer.sha256) {
    throw new Error(`Expected the API to store sha256 ${hasher.sha256} for ${file} but it stored ${answer.sha256}; the upload was altered on its way`);
  }
  return answer;
}

export interface UploadProgress {
  readonly intervalMs: number;
  update(sent: number): void;
  stop(sent: number): void;
}

export function chooseUploadProgress(stream: OutputStream, json: boolean, name: string, total: number): UploadProgress | null {
  if (stream.isTTY) return new UploadBar(stream, name, total);
  return json ? null : new UploadLines(stream, name, total);
}

const rate = (bytes: number, ms: number) => `${formatBytes(ms > 0 ? (bytes * 1000) / ms : 0)}/s`;

class UploadBar implements UploadProgress {
  readonly intervalMs = BAR_INTERVAL_MS;
  private readonly bar: SingleBar;
  private readonly started = Date.now();

  constructor(stream: OutputStream, name: string, private readonly total: number) {
    this.bar = new SingleBar({
      stream: stream as NodeJS.WritableStream,
      format: `uploading ${name} |{bar}| {percentage}% {sent} of {size}, {rate}`,
      hideCursor: true,
      barsize: 30,
      // The API's answer follows on stdout; the bar stays as the record of the upload.
      clearOnComplete: false,
    }, Presets.shades_classic);
    this.bar.start(total, 0, this.payload(0));
  }

  update(sent: number): void {
    this.bar.update(sent, this.payload(sent));
  }

  stop(sent: number): void {
    this.bar.update(sent, this.payload(sent));
    this.bar.stop();
  }

  private payload(sent: number) {
    return { sent: formatBytes(sent), size: formatBytes(this.total), rate: rate(sent, Date.now() - this.started) };
  }
}

/** A line a second while it goes up, and one when it is all sent (then the API reads the file). */
class UploadLines implements UploadProgress {
  readonly intervalMs = LINE_INTERVAL_MS;
  private readonly started = Date.now();

  constructor(private readonly stream: OutputStream, private readonly name: string, private readonly total: number) {}

  update(sent: number): void {
    if (sent >= this.total) return;
    const percent = Math.floor((sent / this.total) * 100);
    this.stream.write(`uploading ${this.name}: ${percent}% (${formatBytes(sent)} of ${formatBytes(this.total)}, ${rate(sent, Date.now() - this.started)})\n`);
  }

  stop(sent: number): void {
    const ms = Date.now() - this.started;
    const seconds = (ms / 1000).toFixed(1);
    if (sent < this.total) this.stream.write(`uploading ${this.name}: stopped after ${formatBytes(sent)} of ${formatBytes(this.total)}\n`);
    else this.stream.write(`uploaded ${this.name}: ${formatBytes(sent)} in ${seconds} s (${rate(sent, ms)})\n`);
  }
}
