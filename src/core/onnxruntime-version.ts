/**
 * The version of the onnxruntime-node package installed with Kiln: what a worker builds with, and
 * the CPU target `kiln fetch` assumes for a client that names none.
 */
import { readFileSync } from 'node:fs';

export function onnxRuntimeVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('onnxruntime-node/package.json has no version');
  return pkg.version;
}
