import * as protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-proto';

/**
 * protobufjs types for the ONNX messages. Kiln's reader decodes only small messages with them
 * (ValueInfoProto, OperatorSetIdProto); test code encodes whole models with `ModelProto`.
 * Field names are camelCase (`irVersion`, `rawData`), protobufjs' default.
 */
const root = protobuf.parse(ONNX_PROTO).root;
const type = (name: string): protobuf.Type => root.lookupType(`onnx.${name}`);

export const ModelProto = type('ModelProto');
export const GraphProto = type('GraphProto');
export const NodeProto = type('NodeProto');
export const AttributeProto = type('AttributeProto');
export const TensorProto = type('TensorProto');
export const SparseTensorProto = type('SparseTensorProto');
export const ValueInfoProto = type('ValueInfoProto');
export const TypeProto = type('TypeProto');
export const TensorShapeProto = type('TensorShapeProto');
export const OperatorSetIdProto = type('OperatorSetIdProto');
export const StringStringEntryProto = type('StringStringEntryProto');
export const FunctionProto = type('FunctionProto');

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation values. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;
