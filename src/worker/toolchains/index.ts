/** Every toolchain Kiln knows. A worker detects each and serves the targets of those it has. */
import { onnxRuntimeToolchain } from './onnxruntime';
import type { Toolchain } from './toolchain';

export function allToolchains(): Toolchain[] {
  return [onnxRuntimeToolchain];
}

export type { Toolchain } from './toolchain';
