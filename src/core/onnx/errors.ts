/**
 * Why a file is not an ONNX model Kiln can build. Retrying never fixes these (a BullMQ job that
 * meets one should fail without retries), and the API answers them as a 4xx with the code.
 */
export type OnnxModelErrorCode =
  | 'empty' // zero bytes
  | 'not-onnx' // not a ModelProto protobuf (an image, text, a checkpoint, corrupt bytes)
  | 'truncated' // a valid start, but a field runs past the end of the file
  | 'no-graph' // a ModelProto without a graph
  | 'no-outputs' // a graph with no outputs: nothing to build or validate
  | 'external-data'; // a tensor keeps its data in another file

export class OnnxModelError extends Error {
  override readonly name = 'OnnxModelError';
  constructor(
    readonly code: OnnxModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const ACCEPTED =
  'Kiln accepts a single self-contained binary ONNX file (a serialized onnx.ModelProto, as written by onnx.save_model or torch.onnx.export)';
