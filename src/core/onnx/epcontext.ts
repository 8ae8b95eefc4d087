/**
 * EPContext models: an ONNX file whose one node, `EPContext` in the `com.microsoft` domain, carries
 * a pre-built TensorRT engine (embed_mode 1) or the path of one next to the file (embed_mode 0).
 * ONNX Runtime's TensorRT execution provider loads the engine from it instead of building one.
 * The attributes are the ones the EP reads (docs/exports.md lists them and why each is set); the
 * graph's inputs and outputs are the original model's, so a session has the same signature.
 */
import { ELEMENT_TYPES, elementTypeName } from './element-types';
import type { ModelInfo, TensorInfo } from './model-info';
import { AttributeType, ModelProto } from './schema';

export const EPCONTEXT_OP = 'EPContext';
export const EPCONTEXT_DOMAIN = 'com.microsoft';
/** The contrib op's only version so far. */
export const EPCONTEXT_OPSET = 1;
/** What ONNX Runtime names the provider that writes and reads these nodes. */
export const TENSORRT_EP = 'TensorrtExecutionProvider';
/** The EPContext model Kiln publishes beside an engine (embed_mode 0, pointing at the engine). */
export const EPCONTEXT_FILE = 'model_ctx.onnx';
/** Its role in the artifact set's manifest. */
export const EPCONTEXT_ROLE = 'epcontext';
/** ONNX IR version 10 (ONNX 1.16): what ONNX Runtime 1.17 and later read. */
const IR_VERSION = 10;

export type EpContextEngine =
  /** embed_mode 1: the engine's bytes inside the model. */
  | { embed: true; bytes: Uint8Array }
  /** embed_mode 0: a path relative to the model's folder (no `..`, not absolute: the EP refuses both). */
  | { embed: false; path: string };

export interface EpContextSpec {
  /** The original model: its graph inputs and outputs, opsets and name. */
  model: Pick<ModelInfo, 'inputs' | 'outputs' | 'opsets' | 'graphName'>;
  engine: EpContextEngine;
  /** Compute capability the engine was built for, e.g. `8.9`; written as `sm89`. */
  cc: string;
  /** TensorRT version that built the engine (ep_sdk_version). */
  trtVersion: string;
  /** Names the node and the partition; the build key keeps it unique per engine. */
  partitionName: string;
  /** The producer written into the model (e.g. `kiln 0.1.0`). */
  producer: { name: string; version: string };
}

export class EpContextError extends Error {
  override name = 'EpContextError';
}

/** The EPContext model's bytes. */
export function writeEpContextModel(spec: EpContextSpec): Buffer {
  if (!spec.engine.embed) checkEnginePath(spec.engine.path);
  const sm = `sm${spec.cc.replace('.', '')}`;
  const attribute = [
    intAttribute('main_context', 1),
    intAttribute('embed_mode', spec.engine.embed ? 1 : 0),
    bytesAttribute('ep_cache_context', spec.engine.embed ? spec.engine.bytes : Buffer.from(spec.engine.path)),
    stringAttribute('hardware_architecture', sm),
    stringAttribute('partition_name', spec.partitionName),
    stringAttribute('source', TENSORRT_EP),
    stringAttribute('ep_sdk_version', spec.trtVersion),
  ];
  const opsets = Object.entries(spec.model.opsets).filter(([domain]) => domain !== EPCONTEXT_DOMAIN);
  const model = ModelProto.create({
    irVersion: IR_VERSION,
    producerName: spec.producer.name,
    producerVersion: spec.producer.version,
    opsetImport: [...opsets.map(([domain, version]) => ({ domain, version })), { domain: EPCONTEXT_DOMAIN, version: EPCONTEXT_OPSET }],
    graph: {
      name: spec.model.graphName || 'main_graph',
      node: [
        {
          name: spec.partitionName,
          opType: EPCONTEXT_OP,
          domain: EPCONTEXT_DOMAIN,
          input: spec.model.inputs.map((t) => t.name),
          output: spec.model.outputs.map((t) => t.name),
          attribute,
        },
      ],
      input: spec.model.inputs.map(valueInfo),
      output: spec.model.outputs.map(valueInfo),
    },
  });
  return Buffer.from(ModelProto.encode(model).finish());
}

function checkEnginePath(path: string): void {
  if (path === '' || path.startsWith('/') || path.includes('..') || path.includes('\\')) {
    throw new EpContextError(`Expected an engine path relative to the EPContext model's folder, without '..' (e.g. engine.plan), but received ${JSON.stringify(path)}`);
  }
}

/** A graph input or output as the reader reported it, back in ONNX's form. */
function valueInfo(tensor: TensorInfo): object {
  const elemType = ELEMENT_TYPES[tensor.elementType as keyof typeof ELEMENT_TYPES];
  if (elemType === undefined || elementTypeName(elemType) !== tensor.elementType) {
    throw new EpContextError(`Expected an ONNX element type (${Object.keys(ELEMENT_TYPES).join(', ')}) for "${tensor.name}" but received ${JSON.stringify(tensor.elementType)}`);
  }
  const dims = tensor.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d }));
  return { name: tensor.name, type: { tensorType: { elemType, ...(tensor.unknownRank ? {} : { shape: { dim: dims } }) } } };
}

const intAttribute = (name: string, i: number) => ({ name, type: AttributeType.INT, i });
const stringAttribute = (name: string, s: string) => bytesAttribute(name, Buffer.from(s));
const bytesAttribute = (name: string, s: Uint8Array) => ({ name, type: AttributeType.STRING, s });

interface DecodedNode {
  opType?: string;
  domain?: string;
  attribute?: Array<{ name?: string; i?: unknown; s?: Uint8Array }>;
}

/**
 * The same EPContext model with the engine's bytes inside (embed_mode 1): one self-contained file
 * for a client that would rather not keep two. For models Kiln wrote: re-encoding keeps only the
 * ONNX fields Kiln's schema knows, which are all the fields Kiln writes.
 */
export function embedEngine(model: Uint8Array, engine: Uint8Array): Buffer {
  const decoded = ModelProto.decode(model) as unknown as { graph?: { node?: DecodedNode[] } };
  const nodes = (decoded.graph?.node ?? []).filter((n) => n.opType === EPCONTEXT_OP && n.domain === EPCONTEXT_DOMAIN);
  if (nodes.length !== 1) throw new EpContextError(`Expected one ${EPCONTEXT_OP} node (${EPCONTEXT_DOMAIN}) in the model but received ${nodes.length}`);
  const attribute = nodes[0].attribute ?? [];
  const mode = attribute.find((a) => a.name === 'embed_mode');
  const context = attribute.find((a) => a.name === 'ep_cache_context');
  if (!mode || !context) throw new EpContextError(`Expected embed_mode and ep_cache_context on the ${EPCONTEXT_OP} node but received ${attribute.map((a) => a.name).join(', ') || 'no attributes'}`);
  mode.i = 1;
  context.s = engine;
  return Buffer.from(ModelProto.encode(decoded).finish());
}
