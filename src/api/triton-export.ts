/**
 * GET /v1/models/:ref/export/triton: which engines go into the repository, and the repository
 * streamed as a tar. Every stored file is hashed as it streams and the tar is cut short (the
 * connection reset) when one differs from its manifest's sha256, so a client never gets a
 * complete tar with a wrong file in it. docs/exports.md has the design.
 */
import type { Response } from 'express';
import { pack as tarPack, type Pack } from 'tar-stream';
import type { FarmContext } from '../context';
import { REPORT_FILE } from '../core/manifest';
import type { PublishedArtifact } from '../core/published-artifact';
import type { BuildReport } from '../core/report';
import { DEFAULT_PLATFORM, type Platform } from '../core/platform';
import { parseTargetKey, TargetParseError, targetPlatform } from '../core/target';
import type { ShapeProfile } from '../core/tensorrt/options';
import { tritonRepository, RepositoryError, type RepositoryEngine, type RepositoryFile } from '../core/triton/repository';
import { TritonConfigError } from '../core/triton/model-config';
import type { ModelRecord } from '../state/model-registry';
import { artifactKey, modelKey } from '../storage/layout';
import { readJson } from '../storage/read-json';
import { VerifyingHasher } from '../storage/verifying-hasher';
import { ApiError, badRequest, notFound } from './errors';

export interface TritonExportQuery {
  targets?: string;
  trt?: string;
  precision?: string;
  platform?: Platform;
  name?: string;
  onnx?: '0' | '1' | 'false' | 'true';
}

const newestFirst = (a: PublishedArtifact, b: PublishedArtifact) => b.publishedAt.localeCompare(a.publishedAt);
/** Engines for the CC as a whole before hardware-compatible or one-SKU ones, as resolve prefers them. */
const plainFirst = (a: PublishedArtifact) => (a.target.toolchain === 'tensorrt' && a.target.hwCompat === 'none' && !a.target.sku ? 0 : 1);

/** The published engines the query names: one per compute capability, newest first. */
export function chooseEngines(published: PublishedArtifact[], query: TritonExportQuery): PublishedArtifact[] {
  const engines = published
    .filter((a) => a.target.toolchain === 'tensorrt' && a.validation !== 'fail')
    // Engines are not portable across OS or CPU architecture: one repository, one platform.
    .filter((a) => targetPlatform(a.target) === (query.platform ?? DEFAULT_PLATFORM))
    .filter((a) => !query.trt || (a.target.toolchain === 'tensorrt' && a.target.trt === query.trt))
    .filter((a) => !query.precision || a.traits.precision === query.precision || (query.precision === 'fp32' && a.traits.precision === 'tf32'))
    .sort(newestFirst);
  if (query.targets) {
    const keys = [...new Set(query.targets.split(',').map((k) => k.trim()).filter(Boolean))];
    return keys.map((key) => {
      try {
        if (parseTargetKey(key).toolchain !== 'tensorrt') throw badRequest(`Expected TensorRT target keys in targets but received ${key}, an ONNX Runtime target`);
      } catch (err) {
        if (err instanceof TargetParseError) throw badRequest(err.message);
        throw err;
      }
      const hit = engines.find((a) => a.targetKey === key);
      if (!hit) throw notFound(`No published engine of this model for ${key}${query.precision ? ` at ${query.precision}` : ''} on ${query.platform ?? DEFAULT_PLATFORM}; it has ${describe(engines)}`);
      return hit;
    });
  }
  const byCc = new Map<string, PublishedArtifact>();
  for (const a of [...engines].sort((x, y) => plainFirst(x) - plainFirst(y))) {
    if (a.target.toolchain === 'tensorrt' && !byCc.has(a.target.cc)) byCc.set(a.target.cc, a);
  }
  if (byCc.size === 0) {
    throw notFound(`No published TensorRT engine of this model on ${query.platform ?? DEFAULT_PLATFORM}${query.trt ? ` for TensorRT ${query.trt}` : ''}${query.precision ? ` at ${query.precision}` : ''}; build one first (kiln build)`);
  }
  return [...byCc.values()];
}

const describe = (engines: PublishedArtifact[]) => (engines.length ? [...new Set(engines.map((a) => a.targetKey))].sort().join(', ') : 'none');

/** The repository's files for the chosen engines; a 400 when Triton could not serve them together. */
export async function planRepository(ctx: FarmContext, model: ModelRecord, chosen: PublishedArtifact[], query: TritonExportQuery): Promise<RepositoryFile[]> {
  const engines: RepositoryEngine[] = await Promise.all(
    chosen.map(async (a) => {
      if (a.target.toolchain !== 'tensorrt') throw new Error(`${a.targetKey} is not a TensorRT target`);
      const file = a.files.find((f) => f.name === a.primary)!;
      return { targetKey: a.targetKey, buildKey: a.buildKey, cc: a.target.cc, trt: a.target.trt, file, profiles: await profilesOf(ctx, a) };
    }),
  );
  try {
    return tritonRepository({ name: query.name ?? defaultName(model), model: { ...model.info, sha256: model.sha256, size: model.size }, engines, onnxFallback: query.onnx === '1' || query.onnx === 'true' });
  } catch (err) {
    if (err instanceof RepositoryError || err instanceof TritonConfigError) throw badRequest(err.message);
    throw err;
  }
}

/** The engine's optimization profiles, as its build report recorded them (the spec has only the user's). */
async function profilesOf(ctx: FarmContext, a: PublishedArtifact): Promise<ShapeProfile[] | null> {
  const entry = a.files.find((f) => f.name === REPORT_FILE);
  if (!entry) return null;
  const report = await readJson<BuildReport>(ctx.store, artifactKey(a.buildKey, entry));
  return (report?.build.details.profiles as ShapeProfile[] | null | undefined) ?? null;
}

/** The model's newest name, else `model`. */
function defaultName(model: ModelRecord): string {
  const label = model.labels.at(-1);
  return label ? label.split('@')[0] : 'model';
}

function storeKeyOf(file: RepositoryFile): string | null {
  if (file.source.kind === 'artifact') return artifactKey(file.source.buildKey, file.source.file);
  if (file.source.kind === 'model') return modelKey(file.source.sha256);
  return null;
}

/** Streams the files as a tar. Missing stored files are a 404 before anything is sent. */
export async function sendRepositoryTar(ctx: FarmContext, res: Response, files: RepositoryFile[], filename: string, mtime: Date): Promise<void> {
  for (const file of files) {
    const key = storeKeyOf(file);
    if (key && !(await ctx.store.head(key))) throw new ApiError(404, 'not_found', `${file.path} is missing from the store (${key}); the artifact set may have been removed`);
  }
  res.setHeader('Content-Type', 'application/x-tar');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  const pack = tarPack();
  // Cutting an entry short makes the pack fail with "tar entry destroyed"; the cause is logged below.
  pack.on('error', () => {});
  pack.pipe(res);
  try {
    const dirs = new Set<string>();
    for (const file of files) {
      const parts = file.path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!dirs.has(dir)) {
          dirs.add(dir);
          await addEntry(pack, { name: `${dir}/`, type: 'directory', mode: 0o755, mtime });
        }
      }
      const key = storeKeyOf(file);
      if (!key) {
        await addEntry(pack, { name: file.path, size: file.size, mode: 0o644, mtime }, file.source.kind === 'bytes' ? file.source.bytes : undefined);
        continue;
      }
      const { body } = await ctx.store.get(key);
      const hasher = new VerifyingHasher(file.path, { sha256: file.sha256, size: file.size });
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: file.path, size: file.size, mode: 0o644, mtime }, (err) => (err ? reject(err) : resolve()));
        const fail = (err: Error) => {
          body.destroy();
          entry.destroy();
          reject(err);
        };
        body.on('error', fail);
        hasher.on('error', fail);
        body.pipe(hasher).pipe(entry);
      });
    }
    pack.finalize();
  } catch (err) {
    // The status line is out: the only way left to say "wrong" is to end the stream unfinished.
    ctx.log.error({ err: { message: (err as Error).message } }, 'triton export cut short');
    pack.destroy();
    res.destroy();
  }
}

function addEntry(pack: Pack, header: Parameters<Pack['entry']>[0], bytes?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    // A directory's entry has no body: tar-stream finishes it at once.
    if (bytes) pack.entry(header, bytes, done);
    else pack.entry(header, done);
  });
}
