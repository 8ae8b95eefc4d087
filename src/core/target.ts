/**
 * Targets: where an artifact runs. Every target has one canonical string key, used as its BullMQ
 * queue name, in build specs, in storage paths and in URLs, so it must be stable and contain no ':'.
 *
 *   tensorrt:    trt10.9.0-sm89, trt10.9.0-sm89-nvidia-geforce-rtx-4080, trt10.9.0-sm86-ampere+,
 *                trt10.9.0-sm89-same-cc (hwCompat sameComputeCapability)
 *   onnxruntime: ort1.30.0-x86_64-avx2
 *
 * Platform (core/platform.ts): a key names it right after the version unless it is the default,
 * linux-x86_64 (trt10.9.0-linux-aarch64-sm90, ort1.30.0-windows-x86_64-avx2); a target without one
 * is linux-x86_64. An ONNX Runtime key names its arch either way, so an arch alone means Linux.
 */
import { z } from 'zod';
import {
  HARDWARE_COMPATIBILITY_LEVELS,
  levelOfKeySuffix,
  readLevel,
  TARGET_KEY_SUFFIX,
} from './tensorrt/hardware-compatibility';
import { DEFAULT_PLATFORM, platformArch, PLATFORMS, type Platform } from './platform';

export const CPU_ISAS = ['avx512', 'avx2', 'baseline', 'neon'] as const;
export type CpuIsa = (typeof CPU_ISAS)[number];

export const CPU_ARCHS = ['x86_64', 'aarch64'] as const;
export type CpuArch = (typeof CPU_ARCHS)[number];

const VERSION = /^\d+\.\d+\.\d+$/;
const CC = /^\d{1,2}\.\d$/;
const SKU = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const TensorRtTargetSchema = z
  .object({
    toolchain: z.literal('tensorrt'),
    trt: z.string().regex(VERSION, 'TensorRT version as major.minor.patch, e.g. 10.9.0'),
    cc: z.string().regex(CC, 'compute capability as major.minor, e.g. 8.9'),
    sku: z.string().regex(SKU, 'SKU slug in lower-case words joined by -, e.g. nvidia-geforce-rtx-4080').optional(),
    hwCompat: z
      .preprocess(readLevel, z.enum(HARDWARE_COMPATIBILITY_LEVELS).default('none'))
      .describe('The engine\'s --hardwareCompatibilityLevel: none, ampere+ or sameComputeCapability (key suffix -same-cc). (Default: none)'),
    platform: z.enum(PLATFORMS).optional().describe('Where the engine runs: linux-x86_64, linux-aarch64 or windows-x86_64. (Default: linux-x86_64)'),
  })
  .strict();

export const OnnxRuntimeTargetSchema = z
  .object({
    toolchain: z.literal('onnxruntime'),
    ort: z.string().regex(VERSION, 'ONNX Runtime version as major.minor.patch, e.g. 1.30.0'),
    arch: z.enum(CPU_ARCHS),
    isa: z.enum(CPU_ISAS),
    platform: z.enum(PLATFORMS).optional().describe('Where the model runs; its arch must be the target\'s. (Default: linux-<arch>)'),
  })
  .strict();

export const TargetSchema = z.discriminatedUnion('toolchain', [TensorRtTargetSchema, OnnxRuntimeTargetSchema]);

export type TensorRtTarget = z.output<typeof TensorRtTargetSchema>;
export type OnnxRuntimeTarget = z.output<typeof OnnxRuntimeTargetSchema>;
export type Target = TensorRtTarget | OnnxRuntimeTarget;
export type ToolchainName = Target['toolchain'];

export class TargetParseError extends Error {
  override name = 'TargetParseError';
}

/** `8.9` -> `89`, `10.0` -> `100`, `12.1` -> `121` (the `sm_XY` naming nvcc uses). */
export function ccToSm(cc: string): string {
  const [major, minor] = cc.split('.');
  return `${major}${minor}`;
}

/** `89` -> `8.9`, `100` -> `10.0`: the last digit is always the minor version. */
export function smToCc(sm: string): string {
  return `${sm.slice(0, -1)}.${sm.slice(-1)}`;
}

/** The platform a target runs on; a target that names none is linux-x86_64 (linux-<arch> for ONNX Runtime). */
export function targetPlatform(target: Target): Platform {
  if (target.platform) return target.platform;
  return target.toolchain === 'onnxruntime' ? (`linux-${target.arch}` as Platform) : DEFAULT_PLATFORM;
}

export function targetKey(target: Target): string {
  const platform = targetPlatform(target);
  if (target.toolchain === 'onnxruntime') {
    return `ort${target.ort}-${platform === `linux-${target.arch}` ? target.arch : platform}-${target.isa}`;
  }
  let key = `trt${target.trt}-${platform === DEFAULT_PLATFORM ? '' : `${platform}-`}sm${ccToSm(target.cc)}`;
  if (target.sku) key += `-${target.sku}`;
  if (target.hwCompat !== 'none') key += `-${TARGET_KEY_SUFFIX[target.hwCompat]}`;
  return key;
}

const PLATFORM = `(?:(${PLATFORMS.join('|')})-)`;
const ORT_KEY = new RegExp(`^ort(\\d+\\.\\d+\\.\\d+)-(?:${PLATFORM}|(x86_64|aarch64)-)([a-z0-9]+)$`);
const SUFFIXES = Object.values(TARGET_KEY_SUFFIX);
const SUFFIX = SUFFIXES.map((suffix) => suffix.replace(/[+]/g, '\\+')).join('|');
// The SKU group must not swallow a bare hardware-compatibility suffix (trt10.9.0-sm86-ampere+).
const TRT_KEY = new RegExp(`^trt(\\d+\\.\\d+\\.\\d+)-${PLATFORM}?sm(\\d{2,3})(?:-(?!(?:${SUFFIX})$)(.+?))?(?:-(${SUFFIX}))?$`);

export const TARGET_KEY_FORMS =
  'ort<version>-<x86_64|aarch64|platform>-<avx512|avx2|baseline|neon> (e.g. ort1.30.0-x86_64-avx2) or ' +
  `trt<version>-[<platform>-]sm<cc>[-<sku>][${SUFFIXES.map((suffix) => `-${suffix}`).join('|')}] (e.g. trt10.9.0-sm89, trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb), ` +
  `where platform is ${PLATFORMS.join(', ')} and a key without one means ${DEFAULT_PLATFORM}`;

/** Parses a canonical target key; throws TargetParseError naming the accepted forms. */
export function parseTargetKey(key: string): Target {
  const ort = ORT_KEY.exec(key);
  if (ort) {
    const platform = ort[2] as Platform | undefined;
    const arch = ort[3] ?? platformArch(platform!);
    return validateTarget({ toolchain: 'onnxruntime', ort: ort[1], arch, isa: ort[4], ...(platform ? { platform } : {}) }, key);
  }
  const trt = TRT_KEY.exec(key);
  if (trt) {
    const raw: Record<string, unknown> = { toolchain: 'tensorrt', trt: trt[1], cc: smToCc(trt[3]) };
    if (trt[2]) raw.platform = trt[2];
    if (trt[4]) raw.sku = trt[4];
    if (trt[5]) raw.hwCompat = levelOfKeySuffix(trt[5]);
    return validateTarget(raw, key);
  }
  throw new TargetParseError(`Expected a target key of the form ${TARGET_KEY_FORMS} but received "${key}"`);
}

/** Accepts a target key or a target object; returns the validated target. */
export function toTarget(input: unknown): Target {
  if (typeof input === 'string') return parseTargetKey(input);
  return validateTarget(input, JSON.stringify(input));
}

function validateTarget(raw: unknown, shown: string): Target {
  const parsed = TargetSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TargetParseError(`Invalid target ${shown}: ${issue.path.join('.') || 'target'}: ${issue.message}`);
  }
  const target = parsed.data;
  if (target.toolchain === 'onnxruntime') {
    const { arch, isa } = target;
    if ((arch === 'aarch64') !== (isa === 'neon')) {
      throw new TargetParseError(`Invalid target ${shown}: ISA ${isa} does not exist on ${arch}`);
    }
    if (target.platform && platformArch(target.platform) !== arch) {
      throw new TargetParseError(`Invalid target ${shown}: expected a platform on ${arch} but received ${target.platform}`);
    }
  }
  // One spelling per target: the default platform is left out, as it is of keys (and build keys).
  if (target.platform && target.platform === targetPlatform({ ...target, platform: undefined })) delete target.platform;
  return target;
}
