/** /openapi.json, generated from the zod schemas that validate the requests. */
import { z } from 'zod';
import { ListBuildsQuerySchema, ListModelsQuerySchema, ListRequestsQuerySchema, ModelUploadQuerySchema, ResolveQuerySchema, SubmitSchema, TritonExportQuerySchema } from './schemas';

type Role = 'reader' | 'builder' | 'admin' | null;

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  role: Role;
  body?: z.ZodType;
  query?: z.ZodObject;
  bodyType?: string;
}

const OPERATIONS: Operation[] = [
  { method: 'post', path: '/v1/models', summary: 'Upload an ONNX model (raw body or multipart field "file")', role: 'builder', query: ModelUploadQuerySchema, bodyType: 'application/octet-stream' },
  { method: 'get', path: '/v1/models', summary: 'List models, newest first, paginated', role: 'reader', query: ListModelsQuerySchema },
  { method: 'get', path: '/v1/models/{ref}', summary: 'A model by sha256, prefix, name or name@version, with its published artifacts', role: 'reader' },
  { method: 'get', path: '/v1/models/{ref}/file', summary: 'Download the ONNX model', role: 'reader' },
  { method: 'get', path: '/v1/models/{ref}/export/triton', summary: 'A Triton model repository (tar) of the model\'s engines: config.pbtxt with cc_model_filenames, engines in 1/, optionally the ONNX as a fallback model', role: 'reader', query: TritonExportQuerySchema },
  { method: 'delete', path: '/v1/models/{ref}', summary: 'Delete a model, its labels, builds and the artifact files no other build lists (admin, or the token that uploaded it); 409 while a build of it runs', role: 'builder' },
  { method: 'post', path: '/v1/builds', summary: 'Submit a request: one model, many targets, one options set', role: 'builder', body: SubmitSchema },
  { method: 'get', path: '/v1/builds', summary: 'List builds, newest first, filtered and paginated', role: 'reader', query: ListBuildsQuerySchema },
  { method: 'get', path: '/v1/builds/{id}', summary: 'A build: state, phase, progress, report, artifacts', role: 'reader' },
  { method: 'delete', path: '/v1/builds/{id}', summary: 'Cancel a queued or running build', role: 'builder' },
  { method: 'post', path: '/v1/builds/{id}/retry', summary: 'Retry a failed, cancelled or stuck build', role: 'builder' },
  { method: 'get', path: '/v1/builds/{id}/log', summary: 'The build log (text)', role: 'reader' },
  { method: 'get', path: '/v1/builds/{id}/compare/{other}', summary: 'Compare the layer profiles of two builds of one model, layer by layer (400 for builds of different models)', role: 'reader' },
  { method: 'get', path: '/v1/builds/{id}/events', summary: 'Server-Sent Events: state, progress, log lines', role: 'reader' },
  { method: 'get', path: '/v1/requests', summary: 'The newest requests: model, targets, matrix state, counts of builds by state', role: 'reader', query: ListRequestsQuerySchema },
  { method: 'get', path: '/v1/requests/{id}', summary: "A request (by id, or its first 6+ characters) and its build matrix's state", role: 'reader' },
  { method: 'get', path: '/v1/artifacts/{buildKey}/{file}', summary: 'Download an artifact (stream with Range, or redirect to a presigned URL)', role: 'reader' },
  { method: 'get', path: '/v1/timing-caches', summary: 'Fleet timing caches, one per TensorRT version, platform, CC and GPU SKU: size, updated, the builds that fed them, seededFrom', role: 'reader' },
  { method: 'get', path: '/v1/timing-caches/{name}', summary: 'Download one fleet timing cache by name (e.g. trt10.9.0-sm89-nvidia-l4)', role: 'reader' },
  { method: 'get', path: '/v1/timing-caches/{trt}/{cc}', summary: 'Download a CC-wide fleet timing cache from before per-SKU caches (e.g. 10.9.0/8.9)', role: 'reader' },
  { method: 'post', path: '/v1/calibration-caches', summary: 'Upload a TensorRT INT8 calibration cache (raw body or multipart field "file"; TRT-<version>-<algorithm> header, then "tensor: hexScale" lines); stored once by sha256', role: 'builder', bodyType: 'application/octet-stream' },
  { method: 'get', path: '/v1/calibration-caches', summary: 'List INT8 calibration caches: sha256, size, uploaded, header', role: 'reader' },
  { method: 'get', path: '/v1/calibration-caches/{sha}', summary: 'Download an INT8 calibration cache (use it in a build as options.tensorrt.calibration)', role: 'reader' },
  { method: 'post', path: '/v1/inputs', summary: 'Upload validation input tensors (JSON { "<input>": { dims, data } }) too large to send inline; stored once by sha256, named in a build by options.validation.inputsRef', role: 'builder', bodyType: 'application/octet-stream' },
  { method: 'get', path: '/v1/keys', summary: "The farm's Ed25519 public keys (key id, PEM, first use) that sign artifact sets' provenance, rotated-out ones included", role: 'reader' },
  { method: 'get', path: '/v1/resolve', summary: 'Which artifact a client should use, and which rung of the ladder matched', role: 'reader', query: ResolveQuerySchema },
  { method: 'get', path: '/v1/workers', summary: 'Live workers and queue depths', role: 'admin' },
  { method: 'get', path: '/v1/recovery', summary: 'What the supervisor restored from storage the last time Redis lost its data', role: 'reader' },
  { method: 'post', path: '/v1/admin/gc', summary: 'Run the garbage collector now (retention, unreferenced stored files, stale temp files); answers what it freed', role: 'admin' },
  { method: 'post', path: '/v1/admin/reindex', summary: 'Rebuild the Redis indexes from storage', role: 'admin' },
  { method: 'get', path: '/healthz', summary: 'Liveness and dependencies', role: null },
];

const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
};

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters: unknown[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (op.query) {
      const schema = z.toJSONSchema(op.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: prop });
      }
    }
    const operation: Record<string, unknown> = {
      summary: op.summary,
      parameters,
      responses: { default: { description: 'Error', content: { 'application/json': { schema: ERROR } } }, 200: { description: 'OK' } },
    };
    if (op.role) operation.security = [{ bearer: [] }];
    if (op.role) operation['x-kiln-role'] = op.role;
    if (op.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } } };
    } else if (op.bodyType) {
      operation.requestBody = { required: true, content: { [op.bodyType]: { schema: { type: 'string', format: 'binary' } }, 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } } } };
    }
    (paths[op.path] ??= {})[op.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Kiln', version, description: 'A build farm for inference engines' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
