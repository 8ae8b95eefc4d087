/**
 * A Triton `config.pbtxt` (protobuf text format of `inference.ModelConfig`, from Triton's
 * `model_config.proto`) for a model Kiln built engines of. Only the fields Kiln knows are written;
 * Triton fills in the rest (instance groups, default batching). docs/exports.md says why each is
 * set as it is.
 */
import type { Dim, ModelInfo, TensorInfo } from '../onnx/model-info';
import type { ShapeProfile } from '../tensorrt/options';

/** ONNX element types (Kiln's lower-case names) -> Triton `DataType`. */
const TRITON_TYPES: Record<string, string> = {
  bool: 'TYPE_BOOL', uint8: 'TYPE_UINT8', uint16: 'TYPE_UINT16', uint32: 'TYPE_UINT32', uint64: 'TYPE_UINT64',
  int8: 'TYPE_INT8', int16: 'TYPE_INT16', int32: 'TYPE_INT32', int64: 'TYPE_INT64',
  float16: 'TYPE_FP16', float: 'TYPE_FP32', double: 'TYPE_FP64', string: 'TYPE_STRING', bfloat16: 'TYPE_BF16',
};

export const TENSORRT_PLATFORM = 'tensorrt_plan';
export const ONNX_PLATFORM = 'onnxruntime_onnx';

export class TritonConfigError extends Error {
  override name = 'TritonConfigError';
}

export interface ModelConfigSpec {
  /** The model's name in the repository (its folder's name). */
  name: string;
  platform: typeof TENSORRT_PLATFORM | typeof ONNX_PLATFORM;
  model: Pick<ModelInfo, 'inputs' | 'outputs'>;
  /** 0: no batching, dims are whole shapes; N > 0: dims leave out the leading batch dim. */
  maxBatchSize: number;
  /** Compute capability -> engine file in the version folder (TensorRT only). */
  ccModelFilenames?: Record<string, string>;
  /** The file Triton loads when no CC matches (Default: Triton's own, model.plan / model.onnx). */
  defaultModelFilename?: string;
}

/**
 * The largest batch Triton may send, from the engines' optimization profiles: Triton batches along
 * the leading dim of every input and output, so that dim must be dynamic in all of them, and each
 * engine must accept every batch from 1 up to it. 0 (no batching) when any of that does not hold.
 */
export function maxBatchSizeOf(model: Pick<ModelInfo, 'inputs' | 'outputs'>, engines: Array<ShapeProfile[] | null | undefined>): number {
  const tensors = [...model.inputs, ...model.outputs];
  if (tensors.length === 0 || !tensors.every((t) => t.dims.length > 0 && typeof t.dims[0] !== 'number')) return 0;
  let max = Infinity;
  for (const profiles of engines) {
    if (!profiles || profiles.length === 0) return 0;
    const batches = profiles.map((profile) => {
      const ranges = model.inputs.map((input) => profile[input.name]);
      if (ranges.some((r) => !r || r.min[0] !== 1)) return 0;
      return Math.min(...ranges.map((r) => r!.max[0]));
    });
    max = Math.min(max, Math.max(...batches));
  }
  return Number.isFinite(max) ? max : 0;
}

export function tritonDataType(tensor: TensorInfo): string {
  const type = TRITON_TYPES[tensor.elementType];
  if (!type) {
    throw new TritonConfigError(`Expected a tensor type Triton serves (${Object.keys(TRITON_TYPES).join(', ')}) for "${tensor.name}" but received ${tensor.elementType}`);
  }
  return type;
}

/** Triton's dims: -1 for a dim the model leaves open; the batch dim left out when batching. */
function tritonDims(tensor: TensorInfo, batching: boolean): number[] {
  if (tensor.unknownRank) throw new TritonConfigError(`Expected a shape for "${tensor.name}" but the model gives none; Triton needs every tensor's rank`);
  const dims = batching ? tensor.dims.slice(1) : tensor.dims;
  return dims.map((d: Dim) => (typeof d === 'number' ? d : -1));
}

/** The text of `config.pbtxt`. */
export function modelConfigText(spec: ModelConfigSpec): string {
  const batching = spec.maxBatchSize > 0;
  const tensor = (t: TensorInfo) =>
    `  {\n    name: ${quote(t.name)}\n    data_type: ${tritonDataType(t)}\n    dims: [ ${tritonDims(t, batching).join(', ')} ]\n  }`;
  const lines = [
    `name: ${quote(spec.name)}`,
    `platform: ${quote(spec.platform)}`,
    `max_batch_size: ${spec.maxBatchSize}`,
    `input [\n${spec.model.inputs.map(tensor).join(',\n')}\n]`,
    `output [\n${spec.model.outputs.map(tensor).join(',\n')}\n]`,
  ];
  if (spec.defaultModelFilename) lines.push(`default_model_filename: ${quote(spec.defaultModelFilename)}`);
  for (const [cc, file] of Object.entries(spec.ccModelFilenames ?? {})) {
    lines.push(`cc_model_filenames {\n  key: ${quote(cc)}\n  value: ${quote(file)}\n}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A text-format string literal: quotes, backslashes and control characters escaped (octal, which every parser reads). */
function quote(s: string): string {
  const escaped = s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    return `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  });
  return `"${escaped}"`;
}
