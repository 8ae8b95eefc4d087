/**
 * Hardware compatibility: engines that load on GPUs other than the one that built them. One idea,
 * spelled as trtexec spells it (`--hardwareCompatibilityLevel=none|ampere+|sameComputeCapability`)
 * in the options, in target objects and in reports. Only the target key keeps its short suffix
 * (`trt10.9.0-sm89-same-cc`): keys name queues, URLs and stored objects, so they never change.
 * This file is the one place that maps between the two.
 */
import { ccNumber } from './version';

export const HARDWARE_COMPATIBILITY_LEVELS = ['none', 'ampere+', 'sameComputeCapability'] as const;
export type HardwareCompatibilityLevel = (typeof HARDWARE_COMPATIBILITY_LEVELS)[number];
export type CompatibleLevel = Exclude<HardwareCompatibilityLevel, 'none'>;

/** The suffix each level gives a target key. */
export const TARGET_KEY_SUFFIX: Record<CompatibleLevel, string> = { 'ampere+': 'ampere+', sameComputeCapability: 'same-cc' };

/**
 * Target objects once spelled sameComputeCapability `same-cc`, as the key does; requests and
 * stored manifests written then still read.
 */
const EARLIER_SPELLINGS: Record<string, HardwareCompatibilityLevel> = { 'same-cc': 'sameComputeCapability' };

/** The level a key suffix names; undefined for a suffix that names none. */
export function levelOfKeySuffix(suffix: string): CompatibleLevel | undefined {
  return (Object.keys(TARGET_KEY_SUFFIX) as CompatibleLevel[]).find((level) => TARGET_KEY_SUFFIX[level] === suffix);
}

/** A level as given or stored, in today's spelling; anything else is returned as it is, for the schema to refuse. */
export function readLevel(value: unknown): unknown {
  return typeof value === 'string' && value in EARLIER_SPELLINGS ? EARLIER_SPELLINGS[value] : value;
}

/**
 * The compute capability a GPU needs to build each level (NvInfer.h, release/10.9):
 * kAMPERE_PLUS "only supported for engines built on NVIDIA Ampere and later GPUs";
 * kSAME_COMPUTE_CAPABILITY "only supported for engines built on NVIDIA Turing and later GPUs".
 */
export const BUILD_CC_MINIMUM: Record<CompatibleLevel, string> = { 'ampere+': '8.0', sameComputeCapability: '7.5' };

/** Whether a hardware-compatible engine built on `builtCc` loads on a GPU of `clientCc`. */
export function compatibleWith(level: CompatibleLevel, builtCc: string, clientCc: string): boolean {
  if (level === 'sameComputeCapability') return builtCc === clientCc;
  return ccNumber(clientCc) >= ccNumber(BUILD_CC_MINIMUM['ampere+']);
}
