import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKeyOf, makeBuildSpec } from '../../src/core/build-spec';
import { readModelInfo } from '../../src/core/onnx/read-model';
import { BuildOptionsSchema, type BuildOptionsInput } from '../../src/core/options';
import { parseTargetKey, type Target } from '../../src/core/target';
import { localTargetKey } from '../../src/worker/toolchains/onnxruntime/detect';
import type { StepContext } from '../../src/worker/toolchains/toolchain';
import { writeModel } from '../models';

export interface TestContext extends StepContext {
  logs: string[];
  percents: number[];
}

/** A temp dir per suite, removed afterwards; each context gets its own model file and work dir in it. */
export function useContexts(): (model: Buffer, options?: BuildOptionsInput, extra?: ContextExtras) => Promise<TestContext> {
  let root = '';
  let count = 0;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kiln-ort-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  return async (model, options = {}, extra = {}) => {
    const dir = join(root, String(count++));
    const modelPath = await writeModel(model, dir, 'model.onnx');
    const workDir = join(dir, 'work');
    await mkdir(workDir);
    const info = await readModelInfo(modelPath);
    const target: Target = extra.target ?? parseTargetKey(localTargetKey());
    const logs: string[] = [];
    const percents: number[] = [];
    const spec = makeBuildSpec(info.sha256, target, BuildOptionsSchema.parse(options));
    return {
      buildKey: buildKeyOf(spec),
      spec,
      model: info,
      modelPath,
      workDir,
      signal: extra.signal ?? new AbortController().signal,
      progress: (percent) => percents.push(percent),
      log: (line) => logs.push(line),
      logs,
      percents,
    };
  };
}

export interface ContextExtras {
  target?: Target;
  signal?: AbortSignal;
}
