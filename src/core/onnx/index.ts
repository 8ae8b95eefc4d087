export * from './model-info';
export * from './errors';
export * from './element-types';
export { readModelInfo, readModelInfoFromBuffer } from './read-model';
export type { ReadModelOptions } from './read-model';
export * as onnxSchema from './schema';
