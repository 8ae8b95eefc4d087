/**
 * Request schemas. The same zod schemas validate requests and generate /openapi.json, so the
 * document cannot drift from what the API accepts.
 */
import { z } from 'zod';
import { BuildOptionsSchema } from '../core/options';
import { BestMetricSchema, SweepSchema } from '../core/sweep';
import { TargetSchema } from '../core/target';
import { PLATFORMS } from '../core/platform';
import { BUILD_STATES } from '../state/build-records';

export const TargetInputSchema = z.union([
  z.string().describe('A target key, e.g. ort1.30.0-x86_64-avx2 or trt10.9.0-sm89'),
  TargetSchema,
]);

export const SubmitSchema = z
  .object({
    model: z.string().min(1).describe('Model reference: sha256, unique sha256 prefix, name or name@version'),
    targets: z
      .union([z.literal('live'), z.array(TargetInputSchema).min(1).max(256)])
      .describe('Targets to build for, or "live" for every target served by a live worker'),
    options: BuildOptionsSchema.default(() => BuildOptionsSchema.parse({})),
    sweep: SweepSchema.optional(),
    best: BestMetricSchema.optional().describe('What decides a sweep\'s best point per target. (Default: p50 latency at the smallest batch measured)'),
  })
  .strict()
  .refine((body) => !body.best || body.sweep, { path: ['best'], message: 'Expected best only with a sweep (it decides the best point of one) but received no sweep' });

export const ListBuildsQuerySchema = z
  .object({
    state: z.enum(BUILD_STATES).optional(),
    model: z.string().optional().describe('Model reference'),
    target: z.string().optional().describe('Target key'),
    cursor: z.string().optional().describe('nextCursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const ListRequestsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(20).describe('How many of the newest requests'),
  })
  .strict();

export const ListModelsQuerySchema = z
  .object({
    cursor: z.string().optional().describe('nextCursor of the previous page'),
    limit: z.coerce.number().int().min(1).max(500).default(100).describe('Models per page, 1 to 500 (Default: 100)'),
  })
  .strict();

export const ModelUploadQuerySchema = z
  .object({
    name: z.string().optional().describe('Label name, e.g. resnet50'),
    version: z.coerce.number().int().positive().optional().describe('Label version (Default: the next one)'),
  })
  .strict();

export const ResolveQuerySchema = z
  .object({
    model: z.string().min(1).optional().describe('Model reference; NAME@best (or NAME@N@best, sha256@best) serves the best point of the newest finished sweep of that model'),
    request: z.string().min(1).optional().describe('A sweep request id (or a prefix of 6+ characters): serves its best point for the client\'s target'),
    target: z.string().optional().describe('CPU target key of the client, e.g. ort1.30.0-x86_64-avx2 (a GPU client may give it too, for the CPU artifact when no engine fits)'),
    platform: z.enum(PLATFORMS).optional().describe('Platform of a GPU client: linux-x86_64, linux-aarch64 or windows-x86_64. (Default: linux-x86_64)'),
    cc: z.string().regex(/^\d{1,2}\.\d$/, 'compute capability as major.minor, e.g. 8.9').optional(),
    sku: z.string().optional().describe('GPU SKU slug, e.g. nvidia-geforce-rtx-4080'),
    trt: z.string().regex(/^\d+\.\d+\.\d+$/, 'TensorRT version as major.minor.patch').optional(),
    precision: z.string().optional(),
    format: z
      .enum(['engine', 'epcontext'])
      .optional()
      .describe("epcontext: only engines published with an EPContext model, which becomes the primary file (for ONNX Runtime's TensorRT EP) (Default: engine)"),
  })
  .strict();

export const TritonExportQuerySchema = z
  .object({
    targets: z
      .string()
      .optional()
      .describe('Comma-separated TensorRT target keys whose engines go in (Default: the newest engine of every compute capability)'),
    trt: z.string().regex(/^\d+\.\d+\.\d+$/, 'TensorRT version as major.minor.patch').optional().describe("Only engines of this TensorRT version (the Triton server's)"),
    precision: z.string().optional().describe('Only engines of this precision (fp32, tf32, fp16, bf16, int8, fp8)'),
    platform: z.enum(PLATFORMS).optional().describe("The Triton server's platform: linux-x86_64, linux-aarch64 or windows-x86_64. (Default: linux-x86_64)"),
    name: z.string().optional().describe("The model's name in the repository (Default: the model's name, else model)"),
    onnx: z.enum(['0', '1', 'false', 'true']).optional().describe('Add the ONNX as an onnxruntime_onnx fallback model <name>_onnx (Default: 0)'),
  })
  .strict();
