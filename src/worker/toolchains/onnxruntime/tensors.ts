/**
 * Host tensors <-> ONNX Runtime tensors. ONNX element names (float, double, bool) differ from
 * ONNX Runtime JS's (float32, float64, bool); everything else is spelled alike.
 */
import { Tensor } from 'onnxruntime-node';
import type { HostTensor } from '../../validation/seeded-inputs';
import type { OutputTensor } from '../../validation/compare';
import type { TypedArray } from '../../validation/element-types';

const TO_ORT: Record<string, Tensor.Type> = {
  float: 'float32',
  double: 'float64',
  float16: 'float16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  bool: 'bool',
};

const FROM_ORT: Record<string, string> = Object.fromEntries(Object.entries(TO_ORT).map(([onnx, ort]) => [ort, onnx]));

export function toOrtTensor(tensor: HostTensor): Tensor {
  const type = TO_ORT[tensor.type];
  if (!type) throw new Error(`Expected an element type ONNX Runtime JS supports (${Object.keys(TO_ORT).join(', ')}) but received ${tensor.type}`);
  return new Tensor(type, tensor.data as Tensor.DataTypeMap[typeof type], tensor.dims);
}

export function toOrtFeeds(inputs: Record<string, HostTensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => [name, toOrtTensor(tensor)]));
}

export function fromOrtTensor(name: string, tensor: Tensor): OutputTensor {
  const type = FROM_ORT[tensor.type];
  if (!type) throw new Error(`Output "${name}" has element type ${tensor.type}, which Kiln cannot compare`);
  return { type, dims: [...tensor.dims], data: tensor.data as TypedArray };
}
