/** What Kiln reads from an ONNX model's graph: enough to build, validate and serve it. */

/** A dim is a number, a symbolic name (`batch`, `N`), or null when the model leaves it unnamed. */
export type Dim = number | string | null;

export interface TensorInfo {
  name: string;
  /** ONNX element type name in lower case: float, float16, bfloat16, double, int8, uint8, int32, int64, bool, ... */
  elementType: string;
  dims: Dim[];
  /** True when the model gives no shape at all (rank unknown); `dims` is then [] but this is not a scalar. */
  unknownRank?: boolean;
}

export interface ModelInfo {
  /** sha256 of the file. */
  sha256: string;
  size: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Domain ('' = ai.onnx) -> opset version. */
  opsets: Record<string, number>;
  graphName: string;
  /** Graph inputs that are not initializers. */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Nodes of the main graph (not counting subgraphs). */
  nodeCount: number;
  /**
   * Operator set domains the main graph's nodes use ('' = ai.onnx), sorted. `opsets` can import
   * more: ONNX Runtime writes an import for every domain it knows into the models it optimises.
   * Absent from records read before it existed.
   */
  nodeDomains?: string[];
  /** Initializers of the main graph, dense and sparse. */
  initializerCount: number;
}
