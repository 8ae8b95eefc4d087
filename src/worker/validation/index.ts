export { compareOutputs, compareTensor, verdictOf, worstVerdict, type CompareOptions, type OutputTensor } from './compare';
export {
  ELEMENT_TYPES,
  elementTypeOf,
  floatToHalf,
  halfToFloat,
  readNumber,
  writeNumber,
  type ElementKind,
  type ElementType,
  type TypedArray,
} from './element-types';
export {
  DEFAULT_FLOAT_RANGE,
  DEFAULT_INT_RANGE,
  MAX_INPUT_ELEMENTS,
  makeInputs,
  seededTensor,
  writeRawTensor,
  type HostTensor,
  type InputOptions,
} from './seeded-inputs';
export { DEFAULT_TOLERANCES, tolerancesFor, type Tolerances } from './tolerances';
export { validationShapes } from './input-shapes';
export { validationReport, type ValidationRun } from './validation-report';
