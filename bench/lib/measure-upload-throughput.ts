/**
 * Upload throughput (issue 11): POST /v1/models of one ONNX file through a real API (its own
 * process, filesystem store), against `cat FILE | sha256sum` of the same file: reading and hashing
 * it once, the least an upload must do. Each round deletes the model first, so every upload
 * stores it; the two are measured alternately, so both see the machine's speed of the moment.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deletePrefix, REDIS_URL, TOKENS } from '../../test/helpers/farm';
import { writeBigOnnx } from '../../test/models/big-onnx';
import { startChild } from './child';
import { nativeUploader, request, uploadFile } from './http';

const MiB = 1024 * 1024;

export interface UploadThroughputSettings {
  mib: number;
  rounds: number;
}

export interface UploadThroughput {
  mib: number;
  rounds: number;
  client: 'curl' | 'node:http';
  uploadMiBps: number[];
  catSha256sumMiBps: number[];
  /** Medians of each side. */
  upload: number;
  catSha256sum: number;
  /** upload / catSha256sum. */
  share: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measureUploadThroughput(settings: UploadThroughputSettings): Promise<UploadThroughput> {
  const bytes = settings.mib * MiB;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'kiln-upload-bench-'));
  const prefix = `ku${randomBytes(5).toString('hex')}`;
  const env = {
    REDIS_URL,
    KILN_PREFIX: prefix,
    KILN_HOME: path.join(scratch, 'home'),
    KILN_PORT: '0',
    KILN_TOKENS: `reader:${TOKENS.reader},builder:${TOKENS.builder},admin:${TOKENS.admin}`,
    KILN_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    KILN_RATE_LIMIT_RPS: '0',
  };
  const api = await startChild('API', 'api-server.ts', { env });
  try {
    const file = path.join(scratch, 'model.onnx');
    await writeBigOnnx(file, bytes);
    const url = String(api.ready.url);
    const native = await nativeUploader();
    const send = native ?? uploadFile;
    const uploadMiBps: number[] = [];
    const catSha256sumMiBps: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const started = performance.now();
      execFileSync('bash', ['-c', `cat "${file}" | sha256sum > /dev/null`]);
      catSha256sumMiBps.push(bytes / MiB / ((performance.now() - started) / 1000));
      const sent = await send(`${url}/v1/models`, TOKENS.builder, file);
      if (sent.status !== 201) throw new Error(`Expected 201 from the upload but received ${sent.status}: ${String(sent.body)}`);
      uploadMiBps.push(sent.bytes / MiB / (sent.ms / 1000));
      const { sha256 } = JSON.parse(String(sent.body)) as { sha256: string };
      const deleted = await request(`${url}/v1/models/${sha256}`, { method: 'DELETE', token: TOKENS.admin });
      if (deleted.status !== 200) throw new Error(`Expected 200 from the delete but received ${deleted.status}`);
    }
    const upload = median(uploadMiBps);
    const catSha256sum = median(catSha256sumMiBps);
    return { mib: settings.mib, rounds: settings.rounds, client: native ? 'curl' : 'node:http', uploadMiBps, catSha256sumMiBps, upload, catSha256sum, share: upload / catSha256sum };
  } finally {
    await api.stop();
    await deletePrefix(prefix);
    await rm(scratch, { recursive: true, force: true });
  }
}
