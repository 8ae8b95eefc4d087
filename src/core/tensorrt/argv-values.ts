/**
 * Values inside trtexec arguments. trtexec splits an option from its value on the first `=`, a
 * list on `,`, and a name from its value on the last `:` (splitNameAndValue, which also reads
 * single quotes): user text only ever fills a typed slot, checked here, so it cannot add an
 * argument or change what another one says.
 */
import { TrtOptionError } from './errors';
import { NAME_PATTERN, NAME_RULE } from './options';

/**
 * A name inside a list argument. The patterns keep out `,` `=` `'` and a leading `-`; a name with
 * `:` is wrapped in single quotes, which trtexec's splitNameAndValue reads as the whole name.
 */
export function quoteName(label: string, name: string, pattern = NAME_PATTERN, rule = NAME_RULE): string {
  if (!pattern.test(name)) {
    throw new TrtOptionError(`Expected ${label} to name tensors or layers of ${rule} but received ${JSON.stringify(name)}`);
  }
  return name.includes(':') ? `'${name}'` : name;
}

/** Worker-chosen paths still go through a check: absolute, and nothing trtexec would split on. */
export function checkPath(label: string, path: string): string {
  if (!path.startsWith('/') || /[,:'"\s=]/.test(path) || path.includes('\0')) {
    throw new Error(`Expected an absolute path without , : ' " = or spaces for ${label} but received ${JSON.stringify(path)}`);
  }
  return path;
}

export function checkDims(input: string, dims: number[]): string {
  if (!Array.isArray(dims) || dims.length === 0 || dims.length > 8 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TrtOptionError(`Expected 1-8 positive integer dims for shapes.${input} but received ${JSON.stringify(dims)}`);
  }
  return dims.join('x');
}

export function checkCount(label: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TrtOptionError(`Expected an integer in [${min}, ${max}] for ${label} but received ${value}`);
  }
}
