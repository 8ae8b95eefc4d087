/**
 * Kiln's configuration: the only module that reads process.env. Every setting has a default that
 * runs the farm on one machine (filesystem storage, local Redis); `loadConfig()` validates it all
 * at start and fails with one message listing every bad variable.
 */
import path from 'node:path';
import { z } from 'zod';
import type { StoreConfig } from './storage/create-store';

const SECOND = 1000;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const EnvSchema = z.object({
  /** Port of the HTTP API (Default: 8080). */
  KILN_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address the API listens on (Default: 127.0.0.1; use 0.0.0.0 in containers). */
  KILN_HOST: z.string().default('127.0.0.1'),
  /** Public base URL of the API, used in links it returns (Default: http://<host>:<port>). */
  KILN_PUBLIC_URL: z.string().url().optional(),
  /** Redis for queues, build records and the artifact index (Default: redis://127.0.0.1:6379). */
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key and BullMQ queue, so several farms can share one Redis (Default: kiln). */
  KILN_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -').default('kiln'),
  /** Working directory for local state: data, temp files, a private Redis (Default: ./.kiln). */
  KILN_HOME: z.string().default('.kiln'),
  /** Storage backend: filesystem or s3 (Default: filesystem). */
  KILN_STORE: z.enum(['filesystem', 's3']).default('filesystem'),
  /** Directory of the filesystem store (Default: $KILN_HOME/data). */
  KILN_DATA_DIR: z.string().optional(),
  KILN_S3_BUCKET: z.string().optional(),
  /** S3 endpoint for MinIO, R2, ... (Default: AWS). */
  KILN_S3_ENDPOINT: z.string().url().optional(),
  KILN_S3_REGION: z.string().default('us-east-1'),
  /** Endpoint clients use for presigned downloads when it differs from KILN_S3_ENDPOINT (Default: KILN_S3_ENDPOINT). */
  KILN_S3_PUBLIC_ENDPOINT: z.string().url().optional(),
  /** native: atomic conditional writes (AWS, MinIO, R2); emulated: head-then-put, racy, for servers without them (Default: native). */
  KILN_S3_CONDITIONAL_WRITES: z.enum(['native', 'emulated']).default('native'),
  /** Path-style URLs (bucket in the path), needed by MinIO (Default: false). */
  KILN_S3_FORCE_PATH_STYLE: bool.default(false),
  /** Key prefix inside the bucket (Default: none). */
  KILN_S3_PREFIX: z.string().default(''),
  /** Credentials; without them the AWS SDK's default chain is used (env, profile, IAM role). */
  KILN_S3_ACCESS_KEY_ID: z.string().optional(),
  KILN_S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Largest model upload in bytes (Default: 2 GiB). */
  KILN_MAX_MODEL_BYTES: z.coerce.number().int().positive().default(2 * GiB),
  /** API tokens as role:token pairs, comma separated, each optionally ending in @<ISO date> after which it is refused; roles reader, builder, admin (Default: none; `npm start` makes an admin token). */
  KILN_TOKENS: z.string().default(''),
  /** Lifetime of presigned download URLs in seconds (Default: 900). */
  KILN_PRESIGN_SECONDS: z.coerce.number().int().positive().default(900),
  /** Worker heartbeat interval in ms (Default: 5000); a worker is live for 3 intervals after its last beat. */
  KILN_HEARTBEAT_MS: z.coerce.number().int().positive().default(5 * SECOND),
  /** How long a worker holds a job's lock before it must renew it, in ms (Default: 30000). */
  KILN_LOCK_MS: z.coerce.number().int().positive().default(30 * SECOND),
  /** How often workers look for stalled jobs (of crashed workers), in ms (Default: 30000). */
  KILN_STALLED_MS: z.coerce.number().int().positive().default(30 * SECOND),
  /** On SIGTERM, how long a worker lets its current build finish before handing it back, in ms (Default: 30000). */
  KILN_SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(30 * SECOND),
  /** Attempts per build for transient errors (Default: 3). */
  KILN_ATTEMPTS: z.coerce.number().int().positive().default(3),
  /** First retry delay after a transient failure, in ms; doubled for each further attempt (Default: 10000). */
  KILN_RETRY_DELAY_MS: z.coerce.number().int().nonnegative().default(10 * SECOND),
  /**
   * How often the API's supervisor reconciles Redis with storage and BullMQ, in ms; a build whose
   * record has not moved for this long is checked against its job (Default: 15000).
   */
  KILN_RECONCILE_MS: z.coerce.number().int().positive().default(15 * SECOND),
  /** Identifier of this worker (Default: <hostname>-<pid>). */
  KILN_WORKER_ID: z.string().optional(),
  /** Log level: debug, info, warn, error (Default: info). */
  KILN_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Path of trtexec (Default: found on the PATH or at /usr/src/tensorrt/bin/trtexec). */
  KILN_TRTEXEC: z.string().optional(),
  /** Directories searched for trtexec when KILN_TRTEXEC is unset (Default: the process's PATH). */
  PATH: z.string().optional(),
  /** GPUs a worker builds on: none (a CPU worker), all, or NVML indices/UUIDs such as 0,1; `kiln worker --gpu` overrides it (Default: none). */
  KILN_GPUS: z.string().regex(/^(none|all|[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*)$/, 'none, all, or GPU indices/UUIDs separated by commas').default('none'),
  /** What a GPU worker does when another process uses its GPU: wait (up to KILN_GPU_IDLE_WAIT_SECONDS, then build and flag), flag (build at once and flag), refuse (fail the attempt so it is retried) (Default: wait). */
  KILN_GPU_IDLE_POLICY: z.enum(['wait', 'flag', 'refuse']).default('wait'),
  /** How long the wait policy waits for the GPU to become idle, in seconds (Default: 120). */
  KILN_GPU_IDLE_WAIT_SECONDS: z.coerce.number().int().nonnegative().default(120),
  /** GPU utilisation (percent) above which a GPU with no other process still counts as busy (Default: 10). */
  KILN_GPU_IDLE_UTILIZATION: z.coerce.number().min(0).max(100).default(10),
  /** The NVML library GPU workers load (Default: libnvidia-ml.so.1). */
  KILN_NVML_LIBRARY: z.string().min(1).default('libnvidia-ml.so.1'),
  /** How long the API waits for Redis to answer a command before answering 503, in ms (Default: 3000). */
  KILN_REDIS_TIMEOUT_MS: z.coerce.number().int().positive().default(3 * SECOND),
  /** How long a client may take to send a request's headers, in ms (Default: 15000). */
  KILN_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(15 * SECOND),
  /** How long a client may take to send a request body before it is authorized as an upload, in ms (Default: 30000). */
  KILN_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30 * SECOND),
  /** An authorized upload (model, calibration cache) is cut after this long without a byte, in ms (Default: 60000). */
  KILN_UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().positive().default(60 * SECOND),
  /** Largest JSON body of a build request, POST /v1/builds (Default: 1 MiB). */
  KILN_MAX_SUBMIT_BYTES: z.coerce.number().int().positive().default(MiB),
  /** Largest options.validation.inputs of a build request, as JSON bytes (Default: 256 KiB). */
  KILN_MAX_INLINE_INPUTS_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** Most points one sweep may fan out to: targets x the product of the swept values (Default: 64). */
  KILN_MAX_SWEEP_POINTS: z.coerce.number().int().positive().default(64),
  /** Requests per second per token, across API processes; 0 turns the limit off (Default: 50). */
  KILN_RATE_LIMIT_RPS: z.coerce.number().int().nonnegative().default(50),
  /** Builds a token may queue per hour (cached answers and joined builds do not count); 0: no limit (Default: 1000). */
  KILN_QUOTA_BUILDS_PER_HOUR: z.coerce.number().int().nonnegative().default(1000),
  /** Builds queued or running for one token at once; 0: no limit (Default: 200). */
  KILN_QUOTA_CONCURRENT_BUILDS: z.coerce.number().int().nonnegative().default(200),
  /** Bytes a token may upload (models, calibration caches; each new file counted once); 0: no limit (Default: 500 GiB). */
  KILN_QUOTA_STORED_BYTES: z.coerce.number().int().nonnegative().default(500 * GiB),
  /** Failed dashboard sign-ins allowed per client address per 15 minutes (Default: 10). */
  KILN_SIGN_IN_ATTEMPTS: z.coerce.number().int().positive().default(10),
  /** How often the API runs the garbage collector (retention, unreferenced files, stale temp files), in seconds; 0: only when asked (Default: 3600). */
  KILN_GC_INTERVAL_SECONDS: z.coerce.number().int().nonnegative().default(3600),
  /** An unreferenced stored file is deleted only once older than this, in seconds: what protects a build publishing right now (Default: 3600). */
  KILN_GC_GRACE_SECONDS: z.coerce.number().int().nonnegative().default(3600),
  /** Temp files (interrupted uploads and store writes) and work directories of dead workers older than this are removed, in seconds (Default: 3600). */
  KILN_GC_TEMP_AGE_SECONDS: z.coerce.number().int().positive().default(3600),
  /** Keep the newest N finished builds per model and target; older ones, and their artifacts no other build shares, are removed; 0: keep all (Default: 0). */
  KILN_RETENTION_KEEP_BUILDS: z.coerce.number().int().nonnegative().default(0),
  /** Failed and cancelled builds are removed this many days after they ended; 0: kept (Default: 0). */
  KILN_RETENTION_FAILED_DAYS: z.coerce.number().nonnegative().default(0),
  /** The farm's Ed25519 signing key (PKCS#8 PEM) that signs every artifact set's provenance; made on first start, mode 0600 (Default: $KILN_HOME/signing-key.pem). */
  KILN_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** This worker's container image with its digest, e.g. registry/kiln-worker@sha256:<hex>, recorded in provenance (Default: unset, not recorded). */
  KILN_WORKER_IMAGE: z.string().regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, 'an image reference with its digest: name@sha256:<64 hex digits>').optional(),
  /** `development` adds stack traces to 500 answers; anything else (or unset) never does (Default: unset). */
  NODE_ENV: z.string().optional(),
});

export type Role = 'reader' | 'builder' | 'admin';
export const ROLES: readonly Role[] = ['reader', 'builder', 'admin'];

export interface TokenConfig {
  role: Role;
  token: string;
  /** After this instant the token is refused (from `role:token@2026-12-31`). */
  expiresAt?: Date;
}

export interface LimitsConfig {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  uploadIdleTimeoutMs: number;
  maxSubmitBytes: number;
  maxInlineInputsBytes: number;
  maxSweepPoints: number;
  /** 0: off. */
  requestsPerSecond: number;
  buildsPerHour: number;
  concurrentBuilds: number;
  storedBytes: number;
  signInAttempts: number;
}

export interface CleanupConfig {
  /** 0: no periodic run. */
  intervalMs: number;
  graceMs: number;
  tempAgeMs: number;
  /** Newest finished builds kept per model and target; 0: all. */
  keepBuilds: number;
  /** 0: failed builds are kept. */
  failedMaxAgeMs: number;
}

export interface KilnConfig {
  port: number;
  host: string;
  publicUrl?: string;
  redisUrl: string;
  prefix: string;
  home: string;
  tmpDir: string;
  store: StoreConfig;
  maxModelBytes: number;
  tokens: TokenConfig[];
  presignSeconds: number;
  heartbeatMs: number;
  lockMs: number;
  stalledMs: number;
  shutdownGraceMs: number;
  attempts: number;
  retryDelayMs: number;
  reconcileMs: number;
  workerId?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  trtexec?: string;
  /** PATH as the environment spells it, searched for trtexec. */
  searchPath?: string;
  /** `none`, `all`, or NVML indices/UUIDs separated by commas. */
  gpus: string;
  gpuIdle: { policy: 'wait' | 'flag' | 'refuse'; waitSeconds: number; utilizationPercent: number };
  nvmlLibrary: string;
  redisTimeoutMs: number;
  limits: LimitsConfig;
  cleanup: CleanupConfig;
  /** Path of the Ed25519 private key that signs provenance (generated when missing). */
  signingKeyFile: string;
  /** `name@sha256:<hex>` of the worker's image, when known. */
  workerImage?: string;
  development: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KilnConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const home = path.resolve(e.KILN_HOME);
  return {
    port: e.KILN_PORT,
    host: e.KILN_HOST,
    publicUrl: e.KILN_PUBLIC_URL,
    redisUrl: e.REDIS_URL,
    prefix: e.KILN_PREFIX,
    home,
    tmpDir: path.join(home, 'tmp'),
    store: storeConfig(e, home),
    maxModelBytes: e.KILN_MAX_MODEL_BYTES,
    tokens: parseTokens(e.KILN_TOKENS),
    presignSeconds: e.KILN_PRESIGN_SECONDS,
    heartbeatMs: e.KILN_HEARTBEAT_MS,
    lockMs: e.KILN_LOCK_MS,
    stalledMs: e.KILN_STALLED_MS,
    shutdownGraceMs: e.KILN_SHUTDOWN_GRACE_MS,
    attempts: e.KILN_ATTEMPTS,
    retryDelayMs: e.KILN_RETRY_DELAY_MS,
    reconcileMs: e.KILN_RECONCILE_MS,
    workerId: e.KILN_WORKER_ID,
    logLevel: e.KILN_LOG_LEVEL,
    trtexec: e.KILN_TRTEXEC,
    searchPath: e.PATH,
    gpus: e.KILN_GPUS,
    gpuIdle: { policy: e.KILN_GPU_IDLE_POLICY, waitSeconds: e.KILN_GPU_IDLE_WAIT_SECONDS, utilizationPercent: e.KILN_GPU_IDLE_UTILIZATION },
    nvmlLibrary: e.KILN_NVML_LIBRARY,
    redisTimeoutMs: e.KILN_REDIS_TIMEOUT_MS,
    limits: {
      headersTimeoutMs: e.KILN_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.KILN_REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: e.KILN_UPLOAD_IDLE_TIMEOUT_MS,
      maxSubmitBytes: e.KILN_MAX_SUBMIT_BYTES,
      maxInlineInputsBytes: e.KILN_MAX_INLINE_INPUTS_BYTES,
      maxSweepPoints: e.KILN_MAX_SWEEP_POINTS,
      requestsPerSecond: e.KILN_RATE_LIMIT_RPS,
      buildsPerHour: e.KILN_QUOTA_BUILDS_PER_HOUR,
      concurrentBuilds: e.KILN_QUOTA_CONCURRENT_BUILDS,
      storedBytes: e.KILN_QUOTA_STORED_BYTES,
      signInAttempts: e.KILN_SIGN_IN_ATTEMPTS,
    },
    cleanup: {
      intervalMs: e.KILN_GC_INTERVAL_SECONDS * SECOND,
      graceMs: e.KILN_GC_GRACE_SECONDS * SECOND,
      tempAgeMs: e.KILN_GC_TEMP_AGE_SECONDS * SECOND,
      keepBuilds: e.KILN_RETENTION_KEEP_BUILDS,
      failedMaxAgeMs: e.KILN_RETENTION_FAILED_DAYS * 24 * 3600 * SECOND,
    },
    signingKeyFile: path.resolve(e.KILN_SIGNING_KEY_FILE ?? path.join(home, 'signing-key.pem')),
    workerImage: e.KILN_WORKER_IMAGE,
    // Stack traces are shown only when asked for by name: a farm started without NODE_ENV is not a development one.
    development: e.NODE_ENV === 'development',
  };
}

function storeConfig(e: z.output<typeof EnvSchema>, home: string): StoreConfig {
  if (e.KILN_STORE === 'filesystem') {
    return { kind: 'filesystem', dir: path.resolve(e.KILN_DATA_DIR ?? path.join(home, 'data')) };
  }
  if (!e.KILN_S3_BUCKET) throw new ConfigError('Invalid configuration:\n  KILN_S3_BUCKET: required when KILN_STORE=s3');
  return {
    kind: 's3',
    bucket: e.KILN_S3_BUCKET,
    region: e.KILN_S3_REGION,
    endpoint: e.KILN_S3_ENDPOINT,
    publicEndpoint: e.KILN_S3_PUBLIC_ENDPOINT,
    conditionalWrites: e.KILN_S3_CONDITIONAL_WRITES,
    forcePathStyle: e.KILN_S3_FORCE_PATH_STYLE,
    prefix: e.KILN_S3_PREFIX,
    accessKeyId: e.KILN_S3_ACCESS_KEY_ID,
    secretAccessKey: e.KILN_S3_SECRET_ACCESS_KEY,
  };
}

/** `role:token` or `role:token@2026-12-31` (or a full ISO instant): the token is refused after that instant. */
const EXPIRY = /@(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)$/;

export function parseTokens(text: string): TokenConfig[] {
  const tokens: TokenConfig[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const expiry = EXPIRY.exec(raw);
    const entry = expiry ? raw.slice(0, expiry.index) : raw;
    const expiresAt = expiry ? new Date(expiry[1].length === 10 ? `${expiry[1]}T00:00:00Z` : expiry[1]) : undefined;
    const at = entry.indexOf(':');
    const role = entry.slice(0, at) as Role;
    const token = entry.slice(at + 1);
    if (at < 0 || !ROLES.includes(role) || token.length < 16 || (expiresAt && Number.isNaN(expiresAt.getTime()))) {
      throw new ConfigError(
        `Invalid configuration:\n  KILN_TOKENS: expected role:token pairs (roles ${ROLES.join(', ')}; tokens of 16+ characters; optionally @YYYY-MM-DD, the expiry) but received "${entry.slice(0, 12)}..."`,
      );
    }
    tokens.push(expiresAt ? { role, token, expiresAt } : { role, token });
  }
  return tokens;
}
