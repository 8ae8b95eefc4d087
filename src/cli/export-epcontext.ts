/**
 * `kiln export epcontext`: the EPContext model resolve picks for a GPU (format=epcontext) and the
 * engine it points at, both verified as `kiln fetch` verifies them; with `embed`, also one
 * self-contained model with the engine inside (docs/exports.md).
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { embedEngine } from '../core/onnx/epcontext';
import type { ResolveAnswer } from './api-types';
import type { KilnClient } from './client';
import { CommandFailed } from './errors';
import { fetchArtifacts, type FetchedFile } from './fetch-artifacts';

/** The embed_mode 1 model written beside the published one. */
export const EMBEDDED_FILE = 'model_ctx.embedded.onnx';

export interface EpContextQuery {
  model: string;
  cc: string;
  trt: string;
  sku?: string;
  precision?: string;
}

export interface EpContextExport {
  answer: ResolveAnswer;
  files: FetchedFile[];
  embedded?: { path: string; sha256: string; size: number };
}

export async function exportEpContext(client: KilnClient, query: EpContextQuery, dir: string, embed: boolean): Promise<EpContextExport> {
  const answer = await client.json<ResolveAnswer>('GET', '/v1/resolve', { query: { ...query, format: 'epcontext' } });
  const context = answer.files.find((f) => f.name === answer.primary && f.role === 'epcontext');
  const engine = answer.files.find((f) => f.role === 'engine');
  if (!answer.buildKey || !context || !engine) {
    throw new CommandFailed(1, `No engine with an EPContext model for TensorRT ${query.trt} on CC ${query.cc} (rung ${answer.rung}: ${answer.note}); build one for this GPU first (kiln build)`);
  }
  const files = await fetchArtifacts(client, { ...answer, files: [context, engine] }, dir, { trt: query.trt });
  if (!embed) return { answer, files };
  const bytes = embedEngine(await readFile(path.join(dir, context.name)), await readFile(path.join(dir, engine.name)));
  const target = path.join(dir, EMBEDDED_FILE);
  await writeFile(`${target}.part`, bytes);
  await rename(`${target}.part`, target);
  return { answer, files, embedded: { path: target, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length } };
}
