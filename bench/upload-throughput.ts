/**
 * Upload throughput (issue 11): POST /v1/models of one ONNX file through a real API with the
 * filesystem store, against `cat FILE | sha256sum` of the same file (reading and hashing it once,
 * the least an upload must do). Each round deletes the model first, so every upload stores it.
 *   node --import tsx bench/upload-throughput.ts [--mib 64] [--rounds 5]
 * Target: the upload at >= 80% of cat+sha256sum (docs/performance.md has the figures).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { deletePrefix, REDIS_URL, TOKENS } from '../test/helpers/farm';
import { writeBigOnnx } from './lib/big-onnx';
import { startChild } from './lib/child';
import { closeAgent, nativeUploader, request, uploadFile } from './lib/http';

const MiB = 1024 * 1024;
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const bytes = arg('mib', 64) * MiB;
  const rounds = arg('rounds', 5);
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
    const upload: number[] = [];
    const hashOnce: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      execFileSync('bash', ['-c', `cat "${file}" | sha256sum > /dev/null`]);
      hashOnce.push(bytes / MiB / ((performance.now() - started) / 1000));
      const sent = await send(`${url}/v1/models`, TOKENS.builder, file);
      if (sent.status !== 201) throw new Error(`Expected 201 from the upload but received ${sent.status}: ${sent.body}`);
      upload.push(sent.bytes / MiB / (sent.ms / 1000));
      const { sha256 } = JSON.parse(String(sent.body)) as { sha256: string };
      const deleted = await request(`${url}/v1/models/${sha256}`, { method: 'DELETE', token: TOKENS.admin });
      if (deleted.status !== 200) throw new Error(`Expected 200 from the delete but received ${deleted.status}`);
    }
    const up = median(upload);
    const hashed = median(hashOnce);
    console.log(JSON.stringify({ mib: bytes / MiB, rounds, client: native ? 'curl' : 'node:http', uploadMiBps: upload.map(Math.round), catSha256sumMiBps: hashOnce.map(Math.round) }));
    console.log(`upload ${up.toFixed(0)} MiB/s, cat+sha256sum ${hashed.toFixed(0)} MiB/s: ${((100 * up) / hashed).toFixed(0)}% (target >= 80%)`);
  } finally {
    closeAgent();
    await api.stop();
    await deletePrefix(prefix);
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
