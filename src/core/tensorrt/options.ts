/**
 * The `tensorrt` section of build options: what a request may say about a TensorRT build, in
 * trtexec's vocabulary. This schema checks shape and internal consistency only; whether a TensorRT
 * release and GPU accept an option is decided by the argv builder (build-argv.ts), at submit time
 * for the target and again on the worker right before trtexec runs. Nothing here names a path or
 * loads code: files (the model, the calibration cache) are referred to by the sha256 of an upload.
 */
import { z } from 'zod';
import { HARDWARE_COMPATIBILITY_LEVELS } from './hardware-compatibility';
import { canonicalPrecisionModes, PRECISION_MODES, type PrecisionMode } from './precision';

/** trtexec's data type names (stringToValue<nvinfer1::DataType> in sampleOptions.cpp, 10.x superset). */
export const TRT_DATA_TYPES = ['fp32', 'fp16', 'bf16', 'int8', 'fp8', 'int32', 'int64', 'bool', 'uint8', 'int4'] as const;
export type TrtDataType = (typeof TRT_DATA_TYPES)[number];

/** trtexec's tensor format (memory layout) names (stringToValue<nvinfer1::TensorFormats>, 10.x superset). */
export const TENSOR_FORMATS = [
  'chw', 'chw2', 'chw4', 'hwc8', 'chw16', 'chw32', 'dhwc8', 'cdhw32', 'hwc', 'dhwc', 'hwc16', 'dla_linear', 'dla_hwc4',
] as const;
export type TensorFormat = (typeof TENSOR_FORMATS)[number];

/** Tactic sources trtexec can switch on or off, and the name each has on its command line. */
export const TACTIC_SOURCES = {
  cublas: 'CUBLAS',
  cublasLt: 'CUBLAS_LT',
  cudnn: 'CUDNN',
  edgeMaskConvolutions: 'EDGE_MASK_CONVOLUTIONS',
  jitConvolutions: 'JIT_CONVOLUTIONS',
} as const;
export type TacticSource = keyof typeof TACTIC_SOURCES;

/**
 * Tensor and layer names as they may appear inside a trtexec argument. trtexec splits lists on `,`
 * and the option from its value on the first `=`, and strips `'`; a leading `-` would read as a
 * flag. Names with `:` (`input:0`, `onnx::Conv_0`) are allowed: args.ts quotes them the way
 * trtexec's splitNameAndValue expects.
 */
export const NAME_PATTERN = /^[A-Za-z0-9_.:/()[\]][A-Za-z0-9_.:/()[\]-]{0,255}$/;
export const NAME_RULE = "1-256 characters from A-Z a-z 0-9 _ . : / ( ) [ ] -, not starting with '-'";

/**
 * Layer names in layerPrecisions may also hold one `*`: alone it means every other layer (8.6 and
 * later), inside a name any run of characters (9.0 and later; trtexec's matchStringWithOneWildcard
 * reads only the first `*` as a wildcard, so a second one would silently match itself).
 */
export const LAYER_NAME_PATTERN = /^(?=[^*]*\*?[^*]*$)[A-Za-z0-9_.:/()[\]*][A-Za-z0-9_.:/()[\]*-]{0,255}$/;
export const LAYER_NAME_RULE = `${NAME_RULE}, or with one * as a wildcard`;

/** A record keyed by tensor or layer names; a bad key is reported with what is accepted. */
function byName<T extends z.ZodType>(value: T, pattern = NAME_PATTERN, rule = NAME_RULE, what = 'a tensor or layer name') {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (!pattern.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `Expected ${what} of ${rule} but received ${JSON.stringify(key)}` });
      }
    }
  });
}
const dims = z.array(z.number().int().positive().max(2 ** 31 - 1)).min(1).max(8);

const ShapeRangeSchema = z
  .object({
    min: dims.describe('Smallest shape the engine accepts. (Default: none, required)'),
    opt: dims.describe('Shape the engine is tuned for. (Default: none, required)'),
    max: dims.describe('Largest shape the engine accepts. (Default: none, required)'),
  })
  .strict()
  .superRefine((range, ctx) => {
    if (range.min.length !== range.opt.length || range.opt.length !== range.max.length) {
      ctx.addIssue({ code: 'custom', message: `Expected min, opt and max of one rank but received ranks ${range.min.length}, ${range.opt.length}, ${range.max.length}` });
      return;
    }
    for (let i = 0; i < range.min.length; i++) {
      if (!(range.min[i] <= range.opt[i] && range.opt[i] <= range.max[i])) {
        ctx.addIssue({ code: 'custom', message: `Expected min <= opt <= max in every dim but dim ${i} is ${range.min[i]}, ${range.opt[i]}, ${range.max[i]}` });
      }
    }
  });

/** One optimization profile: a shape range per dynamic input. */
export const ShapeProfileSchema = byName(ShapeRangeSchema);
export type ShapeProfile = z.output<typeof ShapeProfileSchema>;

/**
 * An I/O format: `type:layout[+layout]` before TensorRT 11.0 (`fp16:chw`, `int8:chw32+chw`), and
 * the memory layout alone from 11.0 (`chw`, `hwc8+chw`), where a strongly typed network sets every
 * type. Both spellings pass this schema; the argv builder takes the one the release reads.
 */
const IO_FORMAT = new RegExp(`^(?:(${TRT_DATA_TYPES.join('|')}):)?(${TENSOR_FORMATS.join('|')})(?:\\+(${TENSOR_FORMATS.join('|')}))*$`);
const ioFormat = z
  .string()
  .regex(
    IO_FORMAT,
    `an I/O format: type:layout[+layout] before TensorRT 11.0 (e.g. fp16:chw), layout[+layout] from 11.0 (e.g. hwc8+chw); type one of ${TRT_DATA_TYPES.join(', ')}, layout one of ${TENSOR_FORMATS.join(', ')}`,
  );

/** An I/O format's parts: the type (absent in the 11.x layout-only form) and its layouts. */
export function splitIoFormat(format: string): { type?: TrtDataType; layouts: TensorFormat[] } {
  const colon = format.indexOf(':');
  const layouts = format.slice(colon + 1).split('+') as TensorFormat[];
  return colon < 0 ? { layouts } : { type: format.slice(0, colon) as TrtDataType, layouts };
}

export const TensorRtOptionsSchema = z
  .object({
    precision: z
      .array(z.enum(PRECISION_MODES))
      .max(PRECISION_MODES.length)
      .transform(canonicalPrecisionModes)
      .default([])
      .describe(
        'Precision modes, each a trtexec flag: fp16, bf16, int8, fp8 widen the kernels TensorRT may pick (in addition to fp32/tf32); ' +
          'best enables all of them; stronglyTyped takes types from the model instead; noTF32 forbids TF32 for fp32 math. ' +
          'Not allowed together: best with stronglyTyped, stronglyTyped with fp16/bf16/int8/fp8, int8 with fp8. ' +
          'From TensorRT 11.0 every network is strongly typed and only noTF32 (and stronglyTyped, a no-op) remain. (Default: [], fp32 with TF32)',
      ),
    profiles: z
      .array(ShapeProfileSchema)
      .min(1)
      .max(32)
      .optional()
      .describe(
        'Optimization profiles: per dynamic input, the {min, opt, max} shapes the engine accepts. Several profiles need TensorRT >= 9.0. ' +
          '(Default: derived from the model by the build step)',
      ),
    memPoolSize: z
      .object({
        workspace: z.number().int().positive().max(1024 * 1024).describe('Builder workspace limit in MiB. (Default: none, required)'),
      })
      .strict()
      .optional()
      .describe('Memory pool limits, as --memPoolSize. (Default: TensorRT decides, up to the device memory)'),
    builderOptimizationLevel: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(3)
      .describe('How hard the builder searches for fast kernels, 0-5; higher builds slower and may run faster. (Default: 3)'),
    hardwareCompatibilityLevel: z
      .enum(HARDWARE_COMPATIBILITY_LEVELS)
      .default('none')
      .describe(
        'Engines that load on other GPUs: ampere+ (any CC >= 8.0, built on CC >= 8.0) or sameComputeCapability (TensorRT >= 10.9, built on CC >= 7.5). ' +
          'Usually set through the target (hwCompat, key suffix -ampere+ or -same-cc) rather than here. (Default: none)',
      ),
    versionCompatible: z
      .boolean()
      .default(false)
      .describe(
        'Engines that later TensorRT versions of the same major version can load (TensorRT >= 8.6). The plan embeds the lean runtime ' +
          '(host code), so whoever loads it must opt in (trtexec --versionCompatible, IRuntime::setEngineHostCodeAllowed); Kiln\'s own runs do. (Default: false)',
      ),
    excludeLeanRuntime: z
      .boolean()
      .default(false)
      .describe('Leave the lean runtime out of a version-compatible plan (no host code to opt in to); needs versionCompatible. (Default: false)'),
    layerPrecisions: byName(z.enum(TRT_DATA_TYPES), LAYER_NAME_PATTERN, LAYER_NAME_RULE, 'a layer name')
      .default({})
      .describe(
        'Per layer (by name) the precision it should run in; needs precisionConstraints prefer or obey; gone in TensorRT 11.0. ' +
          'The name * sets every other layer; a name with one * (e.g. /encoder/*/MatMul) matches any run of characters there (TensorRT >= 9.0). (Default: {})',
      ),
    precisionConstraints: z
      .enum(['none', 'prefer', 'obey'])
      .default('none')
      .describe('Whether layerPrecisions are honoured when possible (prefer) or always (obey). (Default: none)'),
    inputIOFormats: z
      .array(ioFormat)
      .max(256)
      .default([])
      .describe(
        'Format of each network input, in input order; one entry applies to all. Before TensorRT 11.0 type and layout (fp16:chw, int8:chw32+chw); ' +
          'from 11.0 the layout alone (chw, hwc8+chw), the type being the network\'s. (Default: [], the network\'s type in chw)',
      ),
    outputIOFormats: z
      .array(ioFormat)
      .max(256)
      .default([])
      .describe('Format of each network output, in output order, written as for inputIOFormats. (Default: [], the network\'s type in chw)'),
    tacticSources: z
      .object({
        cublas: z.boolean().optional().describe('cuBLAS kernels; gone in TensorRT 11.0. (Default: TensorRT decides)'),
        cublasLt: z.boolean().optional().describe('cuBLASLt kernels; gone in TensorRT 11.0. (Default: TensorRT decides)'),
        cudnn: z.boolean().optional().describe('cuDNN kernels; gone in TensorRT 11.0. (Default: TensorRT decides)'),
        edgeMaskConvolutions: z.boolean().optional().describe('Edge-mask convolution kernels. (Default: TensorRT decides)'),
        jitConvolutions: z.boolean().optional().describe('JIT-compiled convolution kernels. (Default: TensorRT decides)'),
      })
      .strict()
      .default({})
      .describe('Switch tactic sources on (true) or off (false), e.g. { cudnn: false }; absent keys keep TensorRT\'s choice. (Default: {})'),
    maxAuxStreams: z
      .number()
      .int()
      .min(0)
      .max(64)
      .optional()
      .describe('Most auxiliary streams an engine may use to run layers in parallel (TensorRT >= 8.6). (Default: TensorRT decides)'),
    stripWeights: z
      .boolean()
      .default(false)
      .describe(
        'Build a plan without its weights, to be refitted from the same ONNX where it is deployed (TensorRT >= 9.2: --weightless on 9.2 and 9.3, ' +
          '--stripWeights from 10.0). From 10.0 the engine stays refittable with those weights without setting refit. Validation and the benchmark refit it ' +
          'from the ONNX at load (--refitFromOnnx, TensorRT >= 10.14); before 10.14 they are skipped and the report says why. (Default: false)',
      ),
    refit: z
      .boolean()
      .default(false)
      .describe(
        'Keep the engine refittable with any weights (--refit). With stripWeights, strips every refittable weight (full refit) instead of ' +
          'only those refitted unchanged. May cost speed, and TensorRT 11.3 notes it can change numerics; the report validates the engine as built. (Default: false)',
      ),
    calibration: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'the sha256 (64 lower-case hex digits) of an uploaded INT8 calibration cache')
      .optional()
      .describe('INT8 calibration cache, as the sha256 of a file uploaded like a model; needs int8 or best. (Default: none)'),
  })
  .strict()
  .superRefine((o, ctx) => {
    const has = (p: PrecisionMode) => o.precision.includes(p);
    const refuse = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (has('best') && has('stronglyTyped')) {
      refuse('precision', 'best and stronglyTyped cannot be combined: best enables implicit precisions, stronglyTyped takes them from the model');
    }
    const implicit = (['fp16', 'bf16', 'int8', 'fp8'] as const).filter(has);
    if (has('stronglyTyped') && implicit.length > 0) {
      refuse('precision', `stronglyTyped takes precisions from the model; remove ${implicit.join(', ')}`);
    }
    if (has('int8') && has('fp8')) refuse('precision', 'int8 and fp8 cannot be enabled together');
    if (o.calibration && !has('int8') && !has('best')) refuse('calibration', 'a calibration cache needs int8 (or best) in precision');
    if (o.excludeLeanRuntime && !o.versionCompatible) refuse('excludeLeanRuntime', 'excludeLeanRuntime only applies with versionCompatible: true');
    const layered = Object.keys(o.layerPrecisions).length > 0;
    if (layered && o.precisionConstraints === 'none') {
      refuse('precisionConstraints', 'layerPrecisions have no effect unless precisionConstraints is prefer or obey');
    }
    if (!layered && o.precisionConstraints !== 'none') {
      refuse('precisionConstraints', `precisionConstraints ${o.precisionConstraints} needs layerPrecisions to constrain`);
    }
    if (o.profiles && o.profiles.length > 1) {
      const first = Object.keys(o.profiles[0]).sort().join(',');
      o.profiles.forEach((profile, i) => {
        const names = Object.keys(profile).sort().join(',');
        if (names !== first) refuse('profiles', `Expected every profile to name the inputs ${first} but profile ${i} names ${names}`);
      });
    }
  });

export type TensorRtOptionsInput = z.input<typeof TensorRtOptionsSchema>;
export type TensorRtOptions = z.output<typeof TensorRtOptionsSchema>;

/** The options with every default filled in. */
export function defaultTensorRtOptions(): TensorRtOptions {
  return TensorRtOptionsSchema.parse({});
}
