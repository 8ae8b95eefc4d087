/**
 * How much memory and time readModelInfo needs for a big model: writes a ~1 GiB ONNX file (one
 * huge initializer, streamed to disk), then reads it in a fresh process and prints peak RSS.
 *   node --import tsx bench/onnx-read-memory.ts [--gib 1]
 * Target: peak RSS well under 200 MB (the API reads uploads of this size).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Writer } from 'protobufjs';
import { readModelInfo } from '../src/core/onnx';
import { GraphProto, ModelProto, TensorProto } from '../src/core/onnx/schema';

const MiB = 1024 * 1024;

/** tag + length of a length-delimited field whose bytes follow. */
function lenHeader(field: number, length: number): Uint8Array {
  return Writer.create().uint32((field << 3) | 2).uint32(length).finish();
}

async function writeBigModel(path: string, bytes: number): Promise<void> {
  const elements = bytes / 4;
  const floatVector = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: elements }] } } };
  const tensorHead = TensorProto.encode(TensorProto.fromObject({ name: 'w', dims: [elements], dataType: 1 })).finish();
  const rawHead = lenHeader(9, bytes);
  const tensorLength = tensorHead.length + rawHead.length + bytes;
  const graphHead = GraphProto.encode(GraphProto.fromObject({
    name: 'big',
    node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
    input: [{ name: 'x', type: floatVector }],
    output: [{ name: 'y', type: floatVector }],
  })).finish();
  const initializerHead = lenHeader(5, tensorLength);
  const graphLength = graphHead.length + initializerHead.length + tensorLength;
  const modelHead = ModelProto.encode(ModelProto.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'bench' })).finish();

  const out = createWriteStream(path);
  for (const part of [modelHead, lenHeader(7, graphLength), graphHead, initializerHead, tensorHead, rawHead]) out.write(part);
  const chunk = Buffer.alloc(16 * MiB, 0x3c);
  for (let written = 0; written < bytes; written += chunk.length) {
    if (!out.write(chunk.subarray(0, Math.min(chunk.length, bytes - written)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function measureRead(path: string, hash: boolean): Promise<void> {
  const before = process.memoryUsage().rss;
  const start = performance.now();
  const info = await readModelInfo(path, hash ? {} : { sha256: 'given by the caller' });
  const ms = performance.now() - start;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({
    sha256: hash ? 'computed' : 'given',
    ms: Math.round(ms),
    rssBeforeMiB: Math.round(before / MiB),
    peakRssMiB: Math.round(peak / MiB),
    size: info.size,
    inputs: info.inputs.map((t) => `${t.name}${JSON.stringify(t.dims)}`),
    initializerCount: info.initializerCount,
  }));
}

async function main(): Promise<void> {
  const [mode, path] = process.argv.slice(2);
  if (mode === 'read') return measureRead(path, process.argv[4] === 'hash');
  const gib = Number(process.argv[process.argv.indexOf('--gib') + 1]) || 1;
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-'));
  try {
    const file = join(dir, 'big.onnx');
    const start = performance.now();
    await writeBigModel(file, Math.round(gib * 1024 * MiB));
    console.log(`wrote ${file} (${gib} GiB initializer) in ${Math.round(performance.now() - start)} ms`);
    // A fresh process per measurement, so peak RSS is the reader's alone (plus node and tsx).
    for (const hash of ['', 'hash']) {
      process.stdout.write(execFileSync(process.execPath, [...process.execArgv, __filename, 'read', file, hash]));
    }
    console.log(`baseline: ${execFileSync(process.execPath, [...process.execArgv, '-e', 'console.log(Math.round(process.resourceUsage().maxRSS / 1024))']).toString().trim()} MiB peak RSS for node + tsx alone`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
