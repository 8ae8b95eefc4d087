/**
 * The TensorRT targets a GPU can build: its CC, its SKU, and the hardware-compatible engines its
 * compute capability and TensorRT version allow. Workers serve exactly these queues.
 */
import type { Platform } from '../platform';
import { targetKey, toTarget, type TensorRtTarget } from '../target';
import { accepts } from './gates';
import { BUILD_CC_MINIMUM, HARDWARE_COMPATIBILITY_LEVELS, type CompatibleLevel } from './hardware-compatibility';
import { ccNumber, parseTrtVersion } from './version';

export interface GpuTargetFacts {
  /** TensorRT version of the worker's trtexec, major.minor.patch, e.g. `10.9.0`. */
  trt: string;
  /** Compute capability, e.g. `9.0`. */
  cc: string;
  /** SKU slug, e.g. `nvidia-h100-80gb-hbm3`. */
  sku: string;
  /** Where the worker runs (core/platform.ts). (Default: linux-x86_64) */
  platform?: Platform;
}

export interface GpuTargets {
  /** Engines for this CC, any SKU: `trt10.9.0-sm90`. */
  cc: TensorRtTarget;
  /** Engines for this exact SKU: `trt10.9.0-sm90-nvidia-h100-80gb-hbm3`. */
  sku: TensorRtTarget;
  /**
   * Hardware-compatible engines this GPU can build: `ampere+` when CC >= 8.0 (TensorRT >= 8.6),
   * `sameComputeCapability` (key suffix `-same-cc`) when CC >= 7.5 and TensorRT >= 10.9.
   */
  hwCompat: TensorRtTarget[];
  /** targetKey() of all of the above, in that order: the queues a worker on this GPU consumes. */
  keys: string[];
  /** The hardware-compatible targets this GPU cannot build, and why (for its registration). */
  refused: { target: string; reason: string }[];
}

/** The targets a GPU can build; throws TargetParseError when a fact is malformed. */
export function gpuTargets(facts: GpuTargetFacts): GpuTargets {
  const base = { toolchain: 'tensorrt', trt: facts.trt, cc: facts.cc, ...(facts.platform ? { platform: facts.platform } : {}) };
  const cc = toTarget(base) as TensorRtTarget;
  const sku = toTarget({ ...base, sku: facts.sku }) as TensorRtTarget;
  const trt = parseTrtVersion(cc.trt);
  const hwCompat: TensorRtTarget[] = [];
  const refused: GpuTargets['refused'] = [];
  for (const level of HARDWARE_COMPATIBILITY_LEVELS.filter((l): l is CompatibleLevel => l !== 'none')) {
    const target = toTarget({ ...base, hwCompat: level }) as TensorRtTarget;
    if (!accepts(level, trt)) refused.push({ target: targetKey(target), reason: `TensorRT ${cc.trt} cannot build --hardwareCompatibilityLevel=${level}` });
    else if (ccNumber(cc.cc) < ccNumber(BUILD_CC_MINIMUM[level])) refused.push({ target: targetKey(target), reason: `${level} engines are built on CC ${BUILD_CC_MINIMUM[level]} or later, this GPU is CC ${cc.cc}` });
    else hwCompat.push(target);
  }
  return { cc, sku, hwCompat, keys: [cc, sku, ...hwCompat].map(targetKey), refused };
}
