import { createHash } from 'node:crypto';
import { FileHandle, open } from 'node:fs/promises';
import type { Type } from 'protobufjs';
import { describeBytes } from './describe-bytes';
import { elementTypeName } from './element-types';
import { ACCEPTED, OnnxModelError } from './errors';
import type { Dim, ModelInfo, TensorInfo } from './model-info';
import { OperatorSetIdProto, StringStringEntryProto, ValueInfoProto } from './schema';
import { bufferSource, ByteSource, Field, fileSource, WIRE, WireError, WireReader } from './wire-reader';

/**
 * Reads what Kiln needs from an ONNX file without loading it: the reader walks the protobuf wire
 * format with positioned reads, decodes only small messages (graph inputs/outputs, opsets, names)
 * and steps over tensor payloads. Every tensor, including those in Constant nodes and in the
 * subgraphs of If/Loop/Scan, is checked for external data.
 */

export interface ReadModelOptions {
  /** The file's sha256 when the caller already has it (the upload stream hashes as it writes). (Default: computed from the file) */
  sha256?: string;
}

export async function readModelInfo(path: string, options: ReadModelOptions = {}): Promise<ModelInfo> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const graphInfo = await parseModel(fileSource(handle, size));
    return { sha256: options.sha256 ?? (await sha256Of(handle, size)), size, ...graphInfo };
  } finally {
    await handle.close();
  }
}

export async function readModelInfoFromBuffer(buf: Uint8Array, options: ReadModelOptions = {}): Promise<ModelInfo> {
  const graphInfo = await parseModel(bufferSource(buf));
  const sha256 = options.sha256 ?? createHash('sha256').update(buf).digest('hex');
  return { sha256, size: buf.length, ...graphInfo };
}

type GraphInfo = Omit<ModelInfo, 'sha256' | 'size'>;

/** IR versions run 1..14 today (one a year or so); anything far above is not a version but random bytes. */
const MAX_IR_VERSION = 32;
/** Names, opsets and graph inputs/outputs are small; anything bigger is corrupt. */
const MAX_SMALL_MESSAGE = 1024 * 1024;
/** Subgraphs (If/Loop/Scan bodies) nest; protobuf's C++ parser, which ONNX Runtime and TensorRT use, stops at 100 nested messages (~33 subgraphs). */
const MAX_DEPTH = 32;

/** ModelProto fields and their wire types: a file whose top level has other fields is not a model. */
const MODEL_FIELDS: Record<number, number> = {
  1: WIRE.VARINT, 2: WIRE.LEN, 3: WIRE.LEN, 4: WIRE.LEN, 5: WIRE.VARINT, 6: WIRE.LEN, 7: WIRE.LEN,
  8: WIRE.LEN, 14: WIRE.LEN, 20: WIRE.LEN, 25: WIRE.LEN, 26: WIRE.LEN,
};

async function parseModel(source: ByteSource): Promise<GraphInfo> {
  if (source.size === 0) throw new OnnxModelError('empty', `The file is empty (0 bytes). ${ACCEPTED}.`);
  const r = new WireReader(source);
  let irVersion: number | undefined;
  let onlyModelFields = true;
  let producerName = '';
  let producerVersion = '';
  const opsets: Record<string, number> = {};
  let graph: TopGraph | undefined;
  try {
    for await (const f of r.fields(source.size)) {
      if (MODEL_FIELDS[f.number] !== f.wire) {
        onlyModelFields = false;
        continue;
      }
      if (f.number === 1) {
        if (f.value < 1 || f.value > MAX_IR_VERSION) throw new WireError('malformed', `ir_version ${f.value} is not an ONNX IR version`);
        irVersion = f.value;
      } else if (f.number === 2) producerName = await readString(r, f);
      else if (f.number === 3) producerVersion = await readString(r, f);
      else if (f.number === 7) graph = await scanGraph(r, f, 'the graph', 0, true);
      else if (f.number === 8) {
        const opset = await decodeSmall(r, f, OperatorSetIdProto);
        const domain = String(opset.domain ?? '');
        opsets[domain === 'ai.onnx' ? '' : domain] = Number(opset.version ?? 0);
      } else if (f.number === 20) await scanTrainingInfo(r, f);
      else if (f.number === 25) await scanFunction(r, f);
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    // A cut file is a run of well-formed ModelProto fields and then one (or its tag) that runs past the end.
    const cutModelField = e.kind === 'eof' && (e.field === undefined || MODEL_FIELDS[e.field.number] === e.field.wire);
    if (cutModelField && irVersion !== undefined && onlyModelFields) {
      throw new OnnxModelError('truncated', `The ONNX model is truncated: ${e.message} (the file has ${source.size} bytes). Upload the whole file.`);
    }
    throw await notOnnx(source, irVersion !== undefined && onlyModelFields ? `it is corrupt: ${e.message}` : undefined);
  }
  if (irVersion === undefined) throw await notOnnx(source);
  if (Object.keys(opsets).length === 0) {
    throw await notOnnx(source, 'it has no opset_import, which every ONNX model needs to name its operator sets (was the file cut short?)');
  }
  if (!graph) throw new OnnxModelError('no-graph', `The ONNX model has no graph (ModelProto.graph is missing; was the file cut short?). ${ACCEPTED}, with a graph.`);
  if (graph.outputs.length === 0) {
    throw new OnnxModelError('no-outputs', `The ONNX graph "${graph.name}" has no outputs. Kiln builds and validates models by their outputs: export the model with at least one graph output.`);
  }
  const { initializerNames } = graph;
  return {
    irVersion,
    producerName,
    producerVersion,
    opsets,
    graphName: graph.name,
    inputs: graph.inputs.filter((input) => !initializerNames.has(input.name)),
    outputs: graph.outputs,
    nodeCount: graph.nodeCount,
    nodeDomains: [...graph.nodeDomains].sort(),
    initializerCount: graph.initializerCount,
  };
}

async function notOnnx(source: ByteSource, why?: string): Promise<OnnxModelError> {
  const head = Buffer.alloc(Math.min(512, source.size));
  await source.read(head, 0, head.length, 0);
  return new OnnxModelError('not-onnx', `The file is not an ONNX model: ${why ?? `it looks like ${describeBytes(head)}`}. ${ACCEPTED}.`);
}

interface TopGraph {
  name: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodeCount: number;
  nodeDomains: Set<string>;
  initializerCount: number;
  initializerNames: Set<string>;
}

/** Walks a graph: the top graph reports its interface; every graph is checked for external tensors. */
async function scanGraph(r: WireReader, graph: Field, where: string, depth: number, top: boolean): Promise<TopGraph> {
  if (depth > MAX_DEPTH) throw new WireError('malformed', `subgraphs nest deeper than ${MAX_DEPTH} levels`);
  const info: TopGraph = { name: '', inputs: [], outputs: [], nodeCount: 0, nodeDomains: new Set(), initializerCount: 0, initializerNames: new Set() };
  for await (const f of r.fields(graph.end)) {
    if (f.number === 1 && expectLen(f)) {
      info.nodeCount++;
      info.nodeDomains.add(await scanNode(r, f, where, depth));
    } else if (f.number === 5 && expectLen(f)) {
      info.initializerCount++;
      info.initializerNames.add(await scanTensor(r, f, `An initializer of ${where}`));
    } else if (f.number === 15 && expectLen(f)) {
      info.initializerCount++;
      info.initializerNames.add(await scanSparseTensor(r, f, `A sparse initializer of ${where}`));
    } else if (!top) {
      continue;
    } else if (f.number === 2 && expectLen(f)) {
      info.name = await readString(r, f);
    } else if ((f.number === 11 || f.number === 12) && expectLen(f)) {
      (f.number === 11 ? info.inputs : info.outputs).push(tensorInfo(await decodeSmall(r, f, ValueInfoProto)));
    }
  }
  return info;
}

/** Returns the node's operator set domain ('' for ai.onnx). */
async function scanNode(r: WireReader, node: Field, where: string, depth: number): Promise<string> {
  let name = '';
  let opType = '';
  let domain = '';
  for await (const f of r.fields(node.end)) {
    if (f.number === 3 && expectLen(f)) name = await readString(r, f);
    else if (f.number === 4 && expectLen(f)) opType = await readString(r, f);
    else if (f.number === 7 && expectLen(f)) domain = await readString(r, f);
    else if (f.number === 5 && expectLen(f)) await scanAttribute(r, f, `node "${name}" (${opType}) of ${where}`, depth);
  }
  return domain === 'ai.onnx' ? '' : domain;
}

async function scanAttribute(r: WireReader, attribute: Field, where: string, depth: number): Promise<void> {
  let name = '';
  for await (const f of r.fields(attribute.end)) {
    const at = () => `attribute "${name}" of ${where}`;
    if (f.number === 1 && expectLen(f)) name = await readString(r, f);
    else if ((f.number === 5 || f.number === 10) && expectLen(f)) await scanTensor(r, f, `The tensor in ${at()}`);
    else if ((f.number === 22 || f.number === 23) && expectLen(f)) await scanSparseTensor(r, f, `The sparse tensor in ${at()}`);
    else if ((f.number === 6 || f.number === 11) && expectLen(f)) await scanGraph(r, f, `the subgraph in ${at()}`, depth + 1, false);
  }
}

/** Returns the tensor's name; throws `external-data` when its data lives in another file. */
async function scanTensor(r: WireReader, tensor: Field, what: string): Promise<string> {
  let name = '';
  let external = false;
  let location: string | undefined;
  for await (const f of r.fields(tensor.end)) {
    if (f.number === 8 && expectLen(f)) name = await readString(r, f);
    else if (f.number === 14 && f.wire === WIRE.VARINT) external ||= f.value === 1;
    else if (f.number === 13 && expectLen(f)) {
      external = true;
      const entry = await decodeSmall(r, f, StringStringEntryProto);
      if (entry.key === 'location') location = String(entry.value ?? '');
    }
  }
  if (external) {
    const subject = name ? `${what} ("${name}")` : what;
    throw new OnnxModelError(
      'external-data',
      `${subject} keeps its data outside the model file (${location === undefined ? 'data_location=EXTERNAL' : `location "${location}"`}). ` +
        'Kiln refuses external data: its location would be a path on the Kiln server, not a file you uploaded. ' +
        'Save the model with every tensor inside the file, e.g. onnx.save_model(model, path, save_as_external_data=False) ' +
        '(possible for models under 2 GiB, the protobuf size limit).',
    );
  }
  return name;
}

/** A sparse tensor is named by its `values` tensor. */
async function scanSparseTensor(r: WireReader, sparse: Field, what: string): Promise<string> {
  let name = '';
  for await (const f of r.fields(sparse.end)) {
    if (f.number === 1 && expectLen(f)) name = await scanTensor(r, f, `${what} (values)`);
    else if (f.number === 2 && expectLen(f)) await scanTensor(r, f, `${what} (indices)`);
  }
  return name;
}

async function scanTrainingInfo(r: WireReader, info: Field): Promise<void> {
  for await (const f of r.fields(info.end)) {
    if ((f.number === 1 || f.number === 2) && expectLen(f)) await scanGraph(r, f, 'a training graph', 1, false);
  }
}

async function scanFunction(r: WireReader, fn: Field): Promise<void> {
  for await (const f of r.fields(fn.end)) {
    if (f.number === 7 && expectLen(f)) await scanNode(r, f, 'a model-local function', 1);
    else if (f.number === 11 && expectLen(f)) await scanAttribute(r, f, 'a model-local function', 1);
  }
}

function expectLen(f: Field): boolean {
  if (f.wire !== WIRE.LEN) throw new WireError('malformed', `field ${f.number} at byte ${f.start} has wire type ${f.wire}, expected 2 (length-delimited)`);
  return true;
}

async function readSmall(r: WireReader, f: Field): Promise<Buffer> {
  const length = f.end - f.start;
  if (length > MAX_SMALL_MESSAGE) throw new WireError('malformed', `field ${f.number} at byte ${f.start} is ${length} bytes, more than a name or a type can be`);
  return r.bytes(length);
}

async function readString(r: WireReader, f: Field): Promise<string> {
  return (await readSmall(r, f)).toString('utf8');
}

/** A decoded protobufjs object: shapes vary by message, and every field may be absent. */
type Plain = Record<string, any>;

async function decodeSmall(r: WireReader, f: Field, type: Type): Promise<Plain> {
  const bytes = await readSmall(r, f);
  try {
    return type.toObject(type.decode(bytes), { longs: Number });
  } catch (e) {
    throw new WireError('malformed', `${type.name} at byte ${f.start} does not decode: ${(e as Error).message}`);
  }
}

function tensorInfo(value: Plain): TensorInfo {
  const name = String(value.name ?? '');
  const tensor = value.type?.tensorType;
  if (!tensor) return { name, elementType: typeString(value.type), dims: [] };
  const info: TensorInfo = { name, elementType: elementTypeName(tensor.elemType ?? 0), dims: [] };
  if (!tensor.shape) info.unknownRank = true;
  else info.dims = ((tensor.shape.dim ?? []) as Plain[]).map(toDim);
  return info;
}

function toDim(dim: Plain): Dim {
  if (typeof dim.dimValue === 'number') return dim.dimValue >= 0 ? dim.dimValue : null;
  return dim.dimParam ? String(dim.dimParam) : null;
}

/** ONNX's notation for non-tensor types: `seq(tensor(float))`, `map(int64,tensor(float))`, ... */
function typeString(type: Plain | undefined): string {
  if (!type) return 'undefined';
  if (type.tensorType) return `tensor(${elementTypeName(type.tensorType.elemType ?? 0)})`;
  if (type.sequenceType) return `seq(${typeString(type.sequenceType.elemType)})`;
  if (type.mapType) return `map(${elementTypeName(type.mapType.keyType ?? 0)},${typeString(type.mapType.valueType)})`;
  if (type.optionalType) return `optional(${typeString(type.optionalType.elemType)})`;
  if (type.sparseTensorType) return `sparse_tensor(${elementTypeName(type.sparseTensorType.elemType ?? 0)})`;
  if (type.opaqueType) return `opaque(${[type.opaqueType.domain, type.opaqueType.name].filter(Boolean).join('.')})`;
  return 'undefined';
}

/** One reused buffer: hashing a 1 GiB file this way adds ~1 MiB of memory, a read stream's garbage adds tens. */
async function sha256Of(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}
