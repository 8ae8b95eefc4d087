import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Real ONNX models with seeded weights, for any test that needs one. Every builder returns the file's bytes. */
export { tinyAdd, tinyMlp, tinyConv, intInputModel, symbolicDimsModel, withExternalData, constantNodeExternal } from './tiny';
export type { TinyOptions } from './tiny';
export { resnet18 } from './resnet';
export type { ResNetOptions } from './resnet';
export { mobilenetV2 } from './mobilenet';
export type { MobileNetOptions } from './mobilenet';
export { GraphBuilder, PRODUCER } from './graph-builder';

/** Writes `bytes` to `dir/name` (creating `dir`) and returns the path. */
export async function writeModel(bytes: Buffer, dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}
