/**
 * The element type of an engine's input bindings, which is what `--loadInputs` files must hold:
 * the ONNX input's type, except that TensorRT before 9.0 has no INT64 (the ONNX parser makes
 * int64 inputs INT32 bindings), and that before 11.0 inputIOFormats sets the type outright
 * (`fp16:chw`). From 11.0 an I/O format is a layout only (`chw`): the strongly typed network keeps
 * the model's type. Only linear layouts (`chw`) are written: vectorised layouts (hwc8, chw32, ...)
 * would need the engine's own padding rules.
 */
import { splitIoFormat, type TensorRtOptions } from '../../../core/tensorrt/options';
import { trtAtLeast } from '../../../core/tensorrt/version';
import { ELEMENT_TYPES, elementTypeOf, readNumber, writeNumber } from '../../validation/element-types';
import type { HostTensor } from '../../validation/seeded-inputs';
import { BuildInputError } from '../toolchain';

/** trtexec data type name -> ONNX element type name. */
const FROM_TRT: Record<string, string> = { fp32: 'float', fp16: 'float16', int8: 'int8', int32: 'int32', int64: 'int64', bool: 'bool', uint8: 'uint8' };

/** The ONNX element type name of input `index`'s binding. */
export function bindingType(onnxType: string, index: number, trt: string, options: Pick<TensorRtOptions, 'inputIOFormats'>): string {
  const formats = options.inputIOFormats;
  if (formats.length > 0) {
    const format = formats.length === 1 ? formats[0] : formats[index];
    if (!format) throw new BuildInputError(`Expected one inputIOFormats entry per input (or one for all) but input ${index} has none`);
    const { type, layouts } = splitIoFormat(format);
    const layout = layouts.join('+');
    if (layout !== 'chw') throw new BuildInputError(`Validation writes linear (chw) inputs only, but inputIOFormats gives input ${index} the layout ${layout}`);
    if (type) {
      const onnx = FROM_TRT[type];
      if (!onnx) throw new BuildInputError(`Validation cannot write ${type} inputs (it writes ${Object.keys(FROM_TRT).join(', ')}); inputIOFormats gives input ${index} ${format}`);
      return onnx;
    }
  }
  if (onnxType === 'double') throw new BuildInputError('TensorRT engines have no double (float64) bindings; export the model with float inputs');
  if (onnxType === 'int64' && !trtAtLeast(trt, '9.0')) return 'int32';
  return onnxType;
}

/** The tensor's values in the binding's type (a copy when the types differ). */
export function toBinding(tensor: HostTensor, type: string): HostTensor {
  if (tensor.type === type) return tensor;
  const from = elementTypeOf(tensor.type, `input "${tensor.name}"`);
  const to = ELEMENT_TYPES[type];
  const data = to.create(tensor.data.length);
  for (let i = 0; i < tensor.data.length; i++) {
    const value = readNumber(from, tensor.data, i);
    if (to.kind !== 'float' && (value < to.min || value > to.max)) {
      throw new BuildInputError(`Input "${tensor.name}" element ${i} is ${value}, outside the ${type} binding the engine has; give smaller values in options.validation.inputRanges`);
    }
    writeNumber(to, data, i, value);
  }
  return { ...tensor, type, data };
}
