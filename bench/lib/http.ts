/** The bench's HTTP client side: small JSON calls on a keep-alive agent, and streamed transfers. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(url: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<RawResponse> {
  const payload = init.json === undefined ? undefined : Buffer.from(JSON.stringify(init.json));
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Parses a JSON answer, insisting on the expected status. */
export function expectJson<T>(response: RawResponse, status: number | number[], what: string): T {
  const ok = Array.isArray(status) ? status : [status];
  if (!ok.includes(response.status)) {
    throw new Error(`Expected HTTP ${ok.join(' or ')} from ${what} but received ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
  }
  return JSON.parse(response.body.toString('utf8')) as T;
}

/** A sink that only counts: what a download or a read costs without anything done with the bytes. */
function countingSink(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      sink.bytes += chunk.length;
      done();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

export interface Transfer {
  bytes: number;
  ms: number;
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
}

/** Streams a file as the raw body of a POST (Content-Length set, nothing buffered). */
export async function uploadFile(url: string, token: string, file: string): Promise<Transfer> {
  const { size } = await stat(file);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ bytes: size, ms: performance.now() - started, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    pipeline(createReadStream(file), req).catch(reject);
  });
}

const execFileAsync = promisify(execFile);

/**
 * Native readers for the download comparison, where the machine has them: curl for the download
 * and dd for the disk read, so both sides are read by equally cheap C programs and the numbers
 * measure the API and the disk, not a Node client sharing the two cores (null without them).
 */
export async function nativeReaders(): Promise<{ download(url: string, token: string): Promise<Transfer>; read(file: string): Promise<Transfer> } | null> {
  try {
    await execFileAsync('curl', ['--version']);
    await execFileAsync('dd', ['--version']);
  } catch {
    return null;
  }
  return {
    async download(url, token) {
      const started = performance.now();
      const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, '-w', '%{http_code} %{size_download} %header{x-kiln-sha256}', url]);
      const ms = performance.now() - started;
      const [status, bytes, sha256] = stdout.trim().split(' ');
      return { bytes: Number(bytes), ms, status: Number(status), headers: { 'x-kiln-sha256': sha256 } };
    },
    async read(file) {
      const started = performance.now();
      await execFileAsync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M']);
      return { bytes: (await stat(file)).size, ms: performance.now() - started, status: 0, headers: {} };
    },
  };
}

/**
 * Uploads a file with curl where the machine has it (null without): a native client streaming the
 * file, so an upload measures the API's receiving, hashing and storing, not a Node client sharing
 * the two cores with it; the same reason the download is read by curl.
 */
export async function nativeUploader(): Promise<((url: string, token: string, file: string) => Promise<Transfer>) | null> {
  try {
    await execFileAsync('curl', ['--version']);
  } catch {
    return null;
  }
  return async (url, token, file) => {
    const { size } = await stat(file);
    const started = performance.now();
    // -T streams the file (--data-binary would read it whole first); an empty Expect skips the 100-continue wait.
    const { stdout } = await execFileAsync(
      'curl',
      ['-sS', '-X', 'POST', '-T', file, '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', '-w', '\n%{http_code}', url],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const ms = performance.now() - started;
    const cut = stdout.lastIndexOf('\n');
    return { bytes: size, ms, status: Number(stdout.slice(cut + 1)), headers: {}, body: Buffer.from(stdout.slice(0, cut)) };
  };
}

/** GETs a URL into a counting sink. */
export function downloadToSink(url: string, token: string): Promise<Transfer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const sink = countingSink();
      pipeline(res as Readable, sink).then(
        () => resolve({ bytes: sink.bytes, ms: performance.now() - started, status: res.statusCode ?? 0, headers: res.headers }),
        reject,
      );
    });
    req.on('error', reject);
  });
}

/**
 * Reads a file into the same kind of counting sink, through fs.createReadStream in 1 MiB chunks,
 * as the filesystem store reads, so the two sides of the comparison read the disk the same way.
 */
export async function readToSink(file: string): Promise<Transfer> {
  const started = performance.now();
  const sink = countingSink();
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), sink);
  return { bytes: sink.bytes, ms: performance.now() - started, status: 0, headers: {} };
}

export function closeAgent(): void {
  agent.destroy();
}
