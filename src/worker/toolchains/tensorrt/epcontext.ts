/**
 * The EPContext model published beside an engine (docs/exports.md): ONNX Runtime's TensorRT
 * execution provider loads `engine.plan` through it without building. Embed mode 0 (the engine
 * by its relative path) keeps the artifact set one engine in size; a client that wants the engine
 * inside the model can have it made from these two files.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EPCONTEXT_FILE, EPCONTEXT_ROLE, writeEpContextModel } from '../../../core/onnx/epcontext';
import type { BuiltFile, StepContext } from '../toolchain';

const KILN_VERSION: string = require('../../../../package.json').version;

/** Writes the EPContext model for `engineFile` into the work dir; null when the engine cannot be loaded through one. */
export async function writeEpContext(ctx: StepContext, engineFile: string, built: { cc: string; trtVersion: string; weightsStripped: boolean }): Promise<BuiltFile | null> {
  if (built.weightsStripped) {
    // A weight-stripped engine needs the ONNX weights to refit at load: an EPContext model alone cannot run it.
    ctx.log('epcontext: none for a weight-stripped engine (it needs the ONNX to refit)');
    return null;
  }
  const bytes = writeEpContextModel({
    model: ctx.model,
    engine: { embed: false, path: engineFile },
    cc: built.cc,
    trtVersion: built.trtVersion,
    partitionName: `kiln_${ctx.buildKey.slice(0, 16)}`,
    producer: { name: 'kiln', version: KILN_VERSION },
  });
  const file = path.join(ctx.workDir, EPCONTEXT_FILE);
  await writeFile(file, bytes);
  ctx.log(`epcontext: ${EPCONTEXT_FILE} (${bytes.length} bytes, embed_mode 0 -> ${engineFile}, sm${built.cc.replace('.', '')}, TensorRT ${built.trtVersion})`);
  return { name: EPCONTEXT_FILE, path: file, role: EPCONTEXT_ROLE };
}
