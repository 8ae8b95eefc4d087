/**
 * Opening and running ONNX Runtime sessions in this process, with errors that say whose fault
 * they are: a model ONNX Runtime cannot load, or cannot run on the resolved inputs, is bad input
 * (BuildInputError: retrying will not help).
 */
import { InferenceSession, type Tensor } from 'onnxruntime-node';
import { BuildInputError } from '../toolchain';
import type { HostTensor } from '../../validation/seeded-inputs';
import type { OutputTensor } from '../../validation/compare';
import { fromOrtTensor, toOrtFeeds } from './tensors';

export type GraphOptimizationLevel = NonNullable<InferenceSession.SessionOptions['graphOptimizationLevel']>;

/**
 * Opens a session, hands it to `use` and always releases it, so native memory does not pile up
 * across builds. `what` names the model in errors ("the original model").
 */
export async function withSession<T>(
  modelPath: string,
  level: GraphOptimizationLevel,
  what: string,
  use: (session: InferenceSession) => Promise<T>,
  loadErrorIsInputError = true,
  settings: InferenceSession.SessionOptions = {},
): Promise<T> {
  let session: InferenceSession;
  try {
    // Fatal only: errors reach the caller as exceptions, so ONNX Runtime need not also print them.
    // onnxruntime-node refuses a setting given as undefined: only those set are passed.
    const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
    session = await InferenceSession.create(modelPath, { ...given, graphOptimizationLevel: level, logSeverityLevel: 4 });
  } catch (err) {
    const message = `ONNX Runtime could not load ${what}: ${(err as Error).message}`;
    throw loadErrorIsInputError ? new BuildInputError(message) : new Error(message);
  }
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/** Runs once and returns every output as a host tensor. */
export async function runSession(
  session: InferenceSession,
  inputs: Record<string, HostTensor>,
): Promise<Record<string, OutputTensor>> {
  const results = await session.run(toOrtFeeds(inputs));
  const out: Record<string, OutputTensor> = {};
  for (const name of session.outputNames) {
    const value = results[name] as Tensor | undefined;
    if (!value) throw new Error(`ONNX Runtime returned no value for output "${name}"`);
    out[name] = fromOrtTensor(name, value);
  }
  return out;
}

export function describeInputs(inputs: Record<string, HostTensor>): string {
  return Object.values(inputs)
    .map((t) => `${t.name}: ${t.type}[${t.dims.join(', ')}]`)
    .join(', ');
}

/**
 * The reference outputs every validation compares with: the original model on ONNX Runtime's CPU
 * provider with graph optimisations off. A model that cannot run on the inputs it was given is
 * bad input, not a transient failure.
 */
export async function runReference(modelPath: string, inputs: Record<string, HostTensor>): Promise<Record<string, OutputTensor>> {
  return withSession(modelPath, 'disabled', 'the original model', async (session) => {
    try {
      return await runSession(session, inputs);
    } catch (err) {
      throw new BuildInputError(
        `ONNX Runtime could not run the original model on inputs ${describeInputs(inputs)}: ${(err as Error).message}; check options.shapes and options.validation`,
      );
    }
  });
}
