/**
 * What this machine builds with ONNX Runtime: exactly one target, `ort<version>-<arch>-<isa>`. An
 * avx512 machine serves only the avx512 target (not avx2 too): level 'all' writes NCHWc layouts
 * sized for the machine's vector width (16 floats with AVX512F, 8 otherwise), so its output is
 * only right for machines of its own ISA.
 */
import { cpuTargetFor, detectCpu, type CpuInfo } from '../../../core/cpu';
import { onnxRuntimeVersion } from '../../../core/onnxruntime-version';
import { targetKey, type OnnxRuntimeTarget } from '../../../core/target';
import type { Capabilities } from '../toolchain';

/** Flags worth registering: the vector and matrix extensions, not all ~100 of /proc/cpuinfo's. */
const ISA_FLAG = /^(sse|ssse3|avx|fma|f16c|amx|asimd|sve|sme|fp16|bf16|i8mm|dotprod|asimddp)/;

export async function detectOnnxRuntime(cpuinfoPath?: string): Promise<Capabilities> {
  let version: string;
  try {
    version = onnxRuntimeVersion();
  } catch (err) {
    return { toolchain: 'onnxruntime', targets: [], hardware: {}, unavailableReason: `onnxruntime-node is not installed: ${(err as Error).message}` };
  }
  let cpu: CpuInfo;
  let target: OnnxRuntimeTarget;
  try {
    cpu = detectCpu(cpuinfoPath);
    target = cpuTargetFor(version, cpu);
  } catch (err) {
    return { toolchain: 'onnxruntime', version, targets: [], hardware: {}, unavailableReason: (err as Error).message };
  }
  return {
    toolchain: 'onnxruntime',
    version,
    targets: [target],
    hardware: {
      cpuModel: cpu.model,
      cores: cpu.cores,
      arch: cpu.arch,
      isa: cpu.isa,
      isaFlags: cpu.flags.filter((flag) => ISA_FLAG.test(flag)),
    },
  };
}

let cachedLocalKey: string | undefined;

/** The target key this machine builds (detected once per process). */
export function localTargetKey(): string {
  cachedLocalKey ??= targetKey(cpuTargetFor(onnxRuntimeVersion(), detectCpu()));
  return cachedLocalKey;
}
