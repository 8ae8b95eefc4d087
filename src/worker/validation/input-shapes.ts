/**
 * The shapes a validation runs at: options.shapes, and for inputs it leaves out, the dims of the
 * user's own tensors (options.validation.inputs), so a user who gives a tensor need not repeat its
 * shape. Where both are given and differ, makeInputs reports the clash.
 */
import type { ModelInfo } from '../../core/onnx/model-info';
import type { BuildOptions } from '../../core/options';
import { resolveShapes, type Shapes } from '../shapes';

export function validationShapes(model: Pick<ModelInfo, 'inputs'>, options: Pick<BuildOptions, 'shapes' | 'validation'>): Shapes {
  const known = new Set(model.inputs.map((input) => input.name));
  const given: Shapes = {};
  const sources: Record<string, string> = {};
  // Tensors naming unknown inputs are left to makeInputs, which names the right option.
  for (const [name, tensor] of Object.entries(options.validation.inputs ?? {})) {
    if (!known.has(name)) continue;
    given[name] = [...tensor.dims];
    sources[name] = `options.validation.inputs["${name}"].dims`;
  }
  for (const [name, shape] of Object.entries(options.shapes ?? {})) {
    given[name] = shape;
    delete sources[name];
  }
  return resolveShapes(model, given, { sources });
}
