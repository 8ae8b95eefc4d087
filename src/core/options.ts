/**
 * Build options: what a request may say about how its builds run. One schema validates requests,
 * fills in defaults (so `{}` and the spelled-out defaults give the same build key) and generates
 * the OpenAPI document. Toolchain-specific options live in their own sub-object, and a build spec
 * keeps only the parts its toolchain reads, so a TensorRT-only option never changes a CPU build key.
 */
import { z } from 'zod';
import { TensorRtOptionsSchema } from './tensorrt/options';
import type { ToolchainName } from './target';

const positiveInt = z.number().int().positive();

/** Concrete values for every dynamic dim, per input: `{ input: [1, 3, 224, 224] }`. */
export const ShapesSchema = z
  .record(z.string().min(1), z.array(positiveInt).min(1).max(16))
  .describe('Concrete input shapes, per input name; required for inputs with symbolic dims (except a batch dim).');

export const TensorValuesSchema = z
  .object({
    dims: z.array(z.number().int().nonnegative()).max(16),
    data: z.array(z.number()).max(4_000_000),
  })
  .strict()
  .describe('A tensor given by value: dims and row-major data.');

export const ValidationOptionsSchema = z
  .object({
    rtol: z.number().nonnegative().optional().describe('Relative tolerance of isclose (Default: by precision; 1e-3 for fp32).'),
    atol: z.number().nonnegative().optional().describe('Absolute tolerance of isclose (Default: by precision; 1e-5 for fp32).'),
    seed: z.number().int().nonnegative().default(0).describe('Seed of the generated inputs (Default: 0).'),
    inputRanges: z
      .record(z.string().min(1), z.tuple([z.number(), z.number()]))
      .optional()
      .describe('Per integer input, the [min, max) range its seeded values come from (Default: [0, 10)).'),
    inputs: z
      .record(z.string().min(1), TensorValuesSchema)
      .optional()
      .describe('User-supplied input tensors; they replace the seeded ones.'),
    inputsRef: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a sha256 (64 lower-case hex digits) of uploaded inputs')
      .optional()
      .describe('The sha256 of input tensors uploaded with POST /v1/inputs (for tensors larger than KILN_MAX_INLINE_INPUTS_BYTES); instead of inputs.'),
    failRatio: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe('An output fails when more than this share of elements is outside tolerance (Default: 0.01).'),
    maxDrift: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        'Drift gate: when this model is name@N and name@N-1 has a published build for the target, the build fails if any output differs from the previous version by more than this (max absolute difference on the seeded inputs) (Default: none, drift is reported only).',
      ),
  })
  .strict()
  .refine((v) => !(v.inputs && v.inputsRef), { message: 'Expected inputs or inputsRef, not both', path: ['inputsRef'] });

/** A file of validation input tensors, as POST /v1/inputs takes it: `{ "<input>": { dims, data } }`. */
export const InputTensorsSchema = z.record(z.string().min(1), TensorValuesSchema);

export const BenchmarkOptionsSchema = z
  .object({
    maxBatch: positiveInt.max(4096).default(8).describe('Largest batch size measured when the batch dim is dynamic (Default: 8).'),
    warmup: z.number().int().nonnegative().max(10_000).default(5).describe('Warm-up runs per batch size (Default: 5).'),
    iterations: positiveInt.max(100_000).default(50).describe('Timed runs per batch size (Default: 50).'),
  })
  .strict();

/**
 * Runtime settings of an ONNX Runtime session: they change how the built model runs, not the model,
 * so a client sets them when it loads it. The benchmark measures with them.
 */
export const OnnxRuntimeSettingsSchema = z
  .object({
    intraOpNumThreads: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe('Threads ONNX Runtime uses inside one operator, when the benchmark runs the built model; a runtime setting, the artifact is the same. (Default: ONNX Runtime\'s own, one per core)'),
    executionMode: z
      .enum(['sequential', 'parallel'])
      .optional()
      .describe('Whether independent operators run one after another or in parallel, when the benchmark runs the built model; a runtime setting. (Default: sequential)'),
  })
  .strict();
export type OnnxRuntimeSettings = z.output<typeof OnnxRuntimeSettingsSchema>;

export const OnnxRuntimeOptionsSchema = z
  .object({
    ...OnnxRuntimeSettingsSchema.shape,
    benchmarkRuntimes: z
      .array(OnnxRuntimeSettingsSchema)
      .min(1)
      .max(64)
      .optional()
      .describe('Runtime settings the benchmark measures in turn on the one built model, each reported on its own; a sweep over runtime settings fills it in. (Default: the settings above)'),
    graphOptimizationLevel: z
      .enum(['basic', 'extended', 'all'])
      .default('all')
      .describe("ONNX Runtime graph optimisation level of the built model (Default: 'all')."),
  })
  .strict();

export const BuildOptionsSchema = z
  .object({
    shapes: ShapesSchema.optional(),
    validation: ValidationOptionsSchema.default(() => ValidationOptionsSchema.parse({})),
    benchmark: BenchmarkOptionsSchema.default(() => BenchmarkOptionsSchema.parse({})),
    timeoutSeconds: positiveInt.max(7 * 24 * 3600).default(3600).describe('Build timeout in seconds (Default: 3600).'),
    // No default: absent, it is absent from the spec, so the build keys of every existing spec stay the same.
    queueTimeoutSeconds: positiveInt
      .max(30 * 24 * 3600)
      .optional()
      .describe('A build still queued after this many seconds fails, saying why it waited (Default: none, it waits until a worker takes it).'),
    onnxruntime: OnnxRuntimeOptionsSchema.default(() => OnnxRuntimeOptionsSchema.parse({})),
    tensorrt: TensorRtOptionsSchema.default(() => TensorRtOptionsSchema.parse({})).describe(
      'TensorRT build options in trtexec\'s vocabulary (precision, profiles, workspace, ...); checked against the target\'s TensorRT version and GPU at submit, and against the worker\'s own before trtexec runs.',
    ),
  })
  .strict();

export type BuildOptionsInput = z.input<typeof BuildOptionsSchema>;
export type BuildOptions = z.output<typeof BuildOptionsSchema>;
export type ValidationOptions = z.output<typeof ValidationOptionsSchema>;
export type BenchmarkOptions = z.output<typeof BenchmarkOptionsSchema>;
export type TensorValues = z.output<typeof TensorValuesSchema>;

/** The toolchain-specific sub-objects; a spec for one toolchain drops the others'. */
const TOOLCHAIN_SECTIONS: Record<ToolchainName, string> = { onnxruntime: 'onnxruntime', tensorrt: 'tensorrt' };

export function optionsForToolchain(options: BuildOptions, toolchain: ToolchainName): BuildOptions {
  const out: Record<string, unknown> = { ...options };
  for (const [name, section] of Object.entries(TOOLCHAIN_SECTIONS)) {
    if (name !== toolchain) delete out[section];
  }
  return out as BuildOptions;
}
