/**
 * The ONNX Runtime build: ONNX Runtime optimises the graph at the requested level and writes the
 * result (`model.optimized.onnx`), which clients load with optimisations disabled. At level 'all'
 * the result holds NCHWc layouts sized for this CPU's vector width, hence one target per ISA.
 */
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo } from '../../../core/onnx/model-info';
import { readModelInfo } from '../../../core/onnx/read-model';
import { BuildInputError, type BuildOutput, type StepContext } from '../toolchain';
import { localTargetKey } from './detect';
import { onnxRuntimeOptions, OPTIMIZED_MODEL_FILE } from './options';
import { OptimizeFailedError, type OptimizerProcess, type OptimizeResult } from './optimizer-process';
import { onnxRuntimeVersion } from '../../../core/onnxruntime-version';

/** The opset imports whose domain some node uses; ai.onnx always, as every model imports it. */
export function usedOpsets(info: Pick<ModelInfo, 'opsets' | 'nodeDomains'>): Record<string, number> {
  if (!info.nodeDomains) return info.opsets;
  const used = new Set(['', ...info.nodeDomains]);
  return Object.fromEntries(Object.entries(info.opsets).filter(([domain]) => used.has(domain)));
}

/** Builds with `optimizer`, the worker's long-lived ONNX Runtime process. */
export async function buildOnnxRuntime(ctx: StepContext, optimizer: OptimizerProcess): Promise<BuildOutput> {
  // A job routed to the wrong machine would publish an artifact laid out for another ISA.
  const local = localTargetKey();
  if (ctx.spec.targetKey !== local) {
    throw new Error(`This worker builds ${local}, not ${ctx.spec.targetKey}; the job reached the wrong queue`);
  }
  const { graphOptimizationLevel } = onnxRuntimeOptions(ctx.spec);
  const outputPath = path.join(ctx.workDir, OPTIMIZED_MODEL_FILE);
  ctx.progress(0);
  ctx.log(`onnxruntime ${onnxRuntimeVersion()}: optimising at graphOptimizationLevel '${graphOptimizationLevel}'`);
  const started = process.hrtime.bigint();
  let result: OptimizeResult;
  try {
    result = await optimizer.optimize(
      { modelPath: ctx.modelPath, outputPath, level: graphOptimizationLevel },
      ctx.signal,
      (line) => ctx.log(line),
    );
  } catch (err) {
    if (err instanceof OptimizeFailedError) {
      // ORT reports a full disk while writing the optimised model as "Protobuf serialization
      // failed", which would blame the model and offer no retry. When the work dir's disk has less
      // room than the model, the disk is the cause: an ENOSPC, which the worker reports as such.
      await throwIfDiskFull(ctx.workDir, ctx.model.size, outputPath, err.message);
      // ONNX Runtime rejecting the model is deterministic: the model (or its options) must change.
      throw new BuildInputError(`ONNX Runtime could not load the model: ${err.message}`);
    }
    throw err;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const written = await stat(outputPath).catch(() => null);
  if (!written?.isFile() || written.size === 0) {
    throw new Error(`ONNX Runtime reported success but wrote no ${OPTIMIZED_MODEL_FILE} at ${outputPath}`);
  }
  let optimized: ModelInfo;
  try {
    optimized = await readModelInfo(outputPath);
  } catch (err) {
    throw new Error(`ONNX Runtime wrote a ${OPTIMIZED_MODEL_FILE} that is not a readable model: ${(err as Error).message}`);
  }
  ctx.log(`wrote ${OPTIMIZED_MODEL_FILE}: ${written.size} bytes, ${ctx.model.nodeCount} -> ${optimized.nodeCount} nodes in ${seconds.toFixed(2)} s`);
  ctx.progress(100);
  return {
    primary: { name: OPTIMIZED_MODEL_FILE, path: outputPath, role: 'model' },
    extra: [],
    // ONNX Runtime runs in a child of the worker, not as a command of its own: its session options say what ran.
    invocation: { settings: { graphOptimizationLevel, executionProviders: ['cpu'] } },
    details: {
      graphOptimizationLevel,
      optimizeSeconds: seconds,
      nodes: { original: ctx.model.nodeCount, optimized: optimized.nodeCount },
      // The domains the result's operators use (com.microsoft.nchwc shows CPU-specific layouts);
      // ONNX Runtime also imports every other domain it knows, which says nothing about this model.
      opsets: usedOpsets(optimized),
      sizeBytes: written.size,
    },
    warnings: result.warnings,
  };
}

async function throwIfDiskFull(dir: string, needed: number, outputPath: string, reported: string): Promise<void> {
  const fs = await statfs(dir).catch(() => null);
  if (!fs || fs.bavail * fs.bsize >= needed) return;
  const err = new Error(`ENOSPC: no space left on device, write '${outputPath}' (ONNX Runtime: ${reported})`) as NodeJS.ErrnoException;
  err.code = 'ENOSPC';
  throw err;
}
