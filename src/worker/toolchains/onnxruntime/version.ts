/** The version of the onnxruntime-node package this worker loads. */
import { readFileSync } from 'node:fs';

export function onnxRuntimeVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('onnxruntime-node/package.json has no version');
  return pkg.version;
}
