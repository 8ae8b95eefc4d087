/**
 * Writes a real ONNX model of about `bytes` bytes without holding it in memory: `y = x + w` with
 * one float initializer `w` whose raw_data is the bulk of the file. The protobuf headers are
 * encoded with their final lengths up front, then the raw bytes are streamed to disk.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Writer } from 'protobufjs';
import { GraphProto, ModelProto, TensorProto } from '../../src/core/onnx/schema';

const CHUNK = 16 * 1024 * 1024;

/** Tag and length of a length-delimited field whose bytes follow. */
function lengthHeader(field: number, length: number): Uint8Array {
  return Writer.create().uint32((field << 3) | 2).uint32(length).finish();
}

export async function writeBigOnnx(path: string, bytes: number): Promise<void> {
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % 4 !== 0) {
    throw new RangeError(`Expected a positive multiple of 4 bytes (float32 elements) but received ${bytes}`);
  }
  const elements = bytes / 4;
  const floatVector = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: elements }] } } };
  const tensorHead = TensorProto.encode(TensorProto.fromObject({ name: 'w', dims: [elements], dataType: 1 })).finish();
  const rawHead = lengthHeader(9, bytes); // TensorProto.raw_data
  const tensorLength = tensorHead.length + rawHead.length + bytes;
  const graphHead = GraphProto.encode(
    GraphProto.fromObject({
      name: 'bench-big',
      node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
      input: [{ name: 'x', type: floatVector }],
      output: [{ name: 'y', type: floatVector }],
    }),
  ).finish();
  const initializerHead = lengthHeader(5, tensorLength); // GraphProto.initializer
  const graphLength = graphHead.length + initializerHead.length + tensorLength;
  const modelHead = ModelProto.encode(
    ModelProto.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'kiln-bench' }),
  ).finish();

  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => Promise.reject(err));
  failed.catch(() => undefined);
  const write = async (chunk: Uint8Array) => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  };
  for (const part of [modelHead, lengthHeader(7, graphLength), graphHead, initializerHead, tensorHead, rawHead]) await write(part);
  // Varied bytes rather than zeros, so nothing on the way can shortcut a sparse or compressible file.
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += 4) chunk.writeFloatLE((i % 4093) / 4093, i);
  for (let written = 0; written < bytes; written += CHUNK) await write(chunk.subarray(0, Math.min(CHUNK, bytes - written)));
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}
