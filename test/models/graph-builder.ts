import { ELEMENT_TYPES, ElementTypeName } from '../../src/core/onnx/element-types';
import { AttributeType, DataLocation, ModelProto } from '../../src/core/onnx/schema';
import { createRng, Rng } from './prng';

/** A small builder for real ONNX graphs: inputs, seeded weights, nodes, outputs -> encoded ModelProto. */

type Plain = Record<string, unknown>;
/** A dim: a size, or a symbolic name such as 'batch'. */
export type DimSpec = number | string;
/** Attribute values: integers and integer lists are INT/INTS; floats and tensors are tagged. */
export type AttrValue = number | number[] | string | { float: number } | { tensor: Plain };

export interface ModelOptions {
  /** (Default: 8, which onnxruntime 1.30 and TensorRT 8.6+ read) */
  irVersion?: number;
  /** (Default: 17) */
  opset?: number;
  graphName?: string;
}

export const PRODUCER = { name: 'kiln-test-models', version: '1.0' };

export class GraphBuilder {
  readonly rng: Rng;
  private readonly nodes: Plain[] = [];
  private readonly inputs: Plain[] = [];
  private readonly outputs: Plain[] = [];
  private readonly initializers: Plain[] = [];
  private count = 0;

  /** Weight noise of its own stream, so perturbing leaves every other value as the seed made it. */
  private readonly noise: ReturnType<typeof createRng>;

  /** `perturb` scales each weight by (1 + perturb * N(0, 1)): a retrained-looking copy of the seed's model. */
  constructor(seed = 1, private readonly perturb = 0) {
    this.rng = createRng(seed);
    this.noise = createRng(seed + 7919);
  }

  input(name: string, type: ElementTypeName, dims: DimSpec[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElementTypeName, dims: DimSpec[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  initializer(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    return this.addInitializer(tensor(name, dims, data));
  }

  /** Adds a TensorProto object as is (e.g. an external one); returns its name. */
  addInitializer(tensorProto: Plain): string {
    this.initializers.push(tensorProto);
    return String(tensorProto.name);
  }

  /** He-normal weights (std sqrt(2 / fanIn)), which keep ReLU activations at a steady scale. */
  weight(name: string, dims: number[], fanIn: number): string {
    const std = Math.sqrt(2 / fanIn);
    const jitter = () => (this.perturb > 0 ? 1 + this.perturb * this.noise.normal() : 1);
    return this.initializer(name, dims, this.fill(size(dims), () => this.rng.normal() * std * jitter()));
  }

  /** Uniform values in [low, high): biases, BN scales and variances. */
  uniform(name: string, dims: number[], low: number, high: number): string {
    return this.initializer(name, dims, this.fill(size(dims), () => this.rng.uniform(low, high)));
  }

  scalar(name: string, value: number): string {
    return this.initializer(name, [], Float32Array.of(value));
  }

  /** Adds a node; returns its (first) output, named `output` or generated from the op type. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${++this.count}`;
    const attribute = Object.entries(attrs).map(([name, value]) => attr(name, value));
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, opType, input: inputs, output: [out], attribute });
    return out;
  }

  /** Conv without bias followed by BatchNormalization, as torchvision builds its CNNs. */
  convBn(x: string, inChannels: number, outChannels: number, kernel: number, stride = 1, group = 1): string {
    const id = ++this.count;
    const w = this.weight(`conv${id}.weight`, [outChannels, inChannels / group, kernel, kernel], (inChannels / group) * kernel * kernel);
    const pad = Math.floor(kernel / 2);
    const y = this.node('Conv', [x, w], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], group });
    return this.batchNorm(y, outChannels);
  }

  batchNorm(x: string, channels: number): string {
    const id = ++this.count;
    const scale = this.uniform(`bn${id}.weight`, [channels], 0.5, 1);
    const bias = this.uniform(`bn${id}.bias`, [channels], -0.1, 0.1);
    const mean = this.uniform(`bn${id}.running_mean`, [channels], -0.1, 0.1);
    const variance = this.uniform(`bn${id}.running_var`, [channels], 0.5, 1.5);
    return this.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: 1e-5 } });
  }

  /** Global average pool, flatten, and a fully connected layer: the classifier head of a CNN. */
  classifier(x: string, channels: number, classes: number, output: string): string {
    const pooled = this.node('Flatten', [this.node('GlobalAveragePool', [x])], { axis: 1 });
    const w = this.weight('fc.weight', [classes, channels], channels);
    const b = this.uniform('fc.bias', [classes], -0.1, 0.1);
    return this.node('Gemm', [pooled, w, b], { transB: 1 }, output);
  }

  toModel(options: ModelOptions = {}): Buffer {
    const model = {
      irVersion: options.irVersion ?? 8,
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      producerName: PRODUCER.name,
      producerVersion: PRODUCER.version,
      graph: {
        name: options.graphName ?? 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fill(n: number, value: () => number): Float32Array {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = value();
    return data;
  }
}

export function size(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function tensor(name: string, dims: number[], data: Float32Array | BigInt64Array): Plain {
  const dataType = data instanceof Float32Array ? ELEMENT_TYPES.float : ELEMENT_TYPES.int64;
  return { name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A tensor whose bytes live in another file, as `onnx.save_model(..., save_as_external_data=True)` writes it. */
export function externalTensor(name: string, dims: number[], location: string): Plain {
  const length = String(size(dims) * 4);
  return {
    name,
    dims,
    dataType: ELEMENT_TYPES.float,
    dataLocation: DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: length }],
  };
}

function valueInfo(name: string, type: ElementTypeName, dims: DimSpec[]): Plain {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEMENT_TYPES[type], shape: { dim } } } };
}

function attr(name: string, value: AttrValue): Plain {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`Expected an integer for attribute ${name} but received ${value}; wrap floats as { float: ${value} }`);
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.TENSOR, t: value.tensor };
}
