/**
 * Targets: where an artifact runs. Every target has one canonical string key, used as its BullMQ
 * queue name, in build specs, in storage paths and in URLs, so it must be stable and contain no ':'.
 *
 *   tensorrt:    trt10.9.0-sm89, trt10.9.0-sm89-nvidia-geforce-rtx-4080, trt10.9.0-sm86-ampere+,
 *                trt10.9.0-sm89-same-cc (hwCompat sameComputeCapability)
 *   onnxruntime: ort1.30.0-x86_64-avx2
 */
import { z } from 'zod';
import {
  HARDWARE_COMPATIBILITY_LEVELS,
  levelOfKeySuffix,
  readLevel,
  TARGET_KEY_SUFFIX,
} from './tensorrt/hardware-compatibility';

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
  })
  .strict();

export const OnnxRuntimeTargetSchema = z
  .object({
    toolchain: z.literal('onnxruntime'),
    ort: z.string().regex(VERSION, 'ONNX Runtime version as major.minor.patch, e.g. 1.30.0'),
    arch: z.enum(CPU_ARCHS),
    isa: z.enum(CPU_ISAS),
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

export function targetKey(target: Target): string {
  if (target.toolchain === 'onnxruntime') return `ort${target.ort}-${target.arch}-${target.isa}`;
  let key = `trt${target.trt}-sm${ccToSm(target.cc)}`;
  if (target.sku) key += `-${target.sku}`;
  if (target.hwCompat !== 'none') key += `-${TARGET_KEY_SUFFIX[target.hwCompat]}`;
  return key;
}

const ORT_KEY = /^ort(\d+\.\d+\.\d+)-(x86_64|aarch64)-([a-z0-9]+)$/;
const SUFFIXES = Object.values(TARGET_KEY_SUFFIX);
const SUFFIX = SUFFIXES.map((suffix) => suffix.replace(/[+]/g, '\\+')).join('|');
// The SKU group must not swallow a bare hardware-compatibility suffix (trt10.9.0-sm86-ampere+).
const TRT_KEY = new RegExp(`^trt(\\d+\\.\\d+\\.\\d+)-sm(\\d{2,3})(?:-(?!(?:${SUFFIX})$)(.+?))?(?:-(${SUFFIX}))?$`);

export const TARGET_KEY_FORMS =
  'ort<version>-<x86_64|aarch64>-<avx512|avx2|baseline|neon> (e.g. ort1.30.0-x86_64-avx2) or ' +
  `trt<version>-sm<cc>[-<sku>][${SUFFIXES.map((suffix) => `-${suffix}`).join('|')}] (e.g. trt10.9.0-sm89, trt10.9.0-sm89-nvidia-geforce-rtx-4080)`;

/** Parses a canonical target key; throws TargetParseError naming the accepted forms. */
export function parseTargetKey(key: string): Target {
  const ort = ORT_KEY.exec(key);
  if (ort) {
    return validateTarget({ toolchain: 'onnxruntime', ort: ort[1], arch: ort[2], isa: ort[3] }, key);
  }
  const trt = TRT_KEY.exec(key);
  if (trt) {
    const raw: Record<string, unknown> = { toolchain: 'tensorrt', trt: trt[1], cc: smToCc(trt[2]) };
    if (trt[3]) raw.sku = trt[3];
    if (trt[4]) raw.hwCompat = levelOfKeySuffix(trt[4]);
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
  if (parsed.data.toolchain === 'onnxruntime') {
    const { arch, isa } = parsed.data;
    if ((arch === 'aarch64') !== (isa === 'neon')) {
      throw new TargetParseError(`Invalid target ${shown}: ISA ${isa} does not exist on ${arch}`);
    }
  }
  return parsed.data;
}
