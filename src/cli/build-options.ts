/**
 * Turns `kiln build` flags into the `options` object of POST /v1/builds:
 *   --options-file options.json       the base object
 *   --shapes input=1x3x224x224        options.shapes.input = [1, 3, 224, 224]
 *   --option validation.rtol=1e-3     a dotted path and a value: number, true/false, null, JSON, or text
 * Later flags win over earlier ones and over the file. The API validates the result; this only
 * builds it, and refuses what cannot mean anything (a path through a value, `__proto__`).
 */
import { UsageError } from './errors';

export { UsageError };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** `input=1x3x224x224` -> ['input', [1, 3, 224, 224]]; the name may itself contain `=`. */
export function parseShape(text: string): [string, number[]] {
  const at = text.lastIndexOf('=');
  const name = at < 0 ? '' : text.slice(0, at);
  const dims = at < 0 ? '' : text.slice(at + 1);
  if (!name || !/^\d+(x\d+)*$/i.test(dims)) {
    throw new UsageError(`Expected --shapes NAME=DIMxDIM... (e.g. input=1x3x224x224) but received "${text}"`);
  }
  const values = dims.split(/x/i).map(Number);
  if (values.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new UsageError(`Expected positive whole dims in --shapes ${text} but received ${dims}`);
  }
  return [name, values];
}

/** The value of `--option path=value`: JSON where it parses as JSON, else the text itself. */
export function parseOptionValue(text: string): Json {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  if (/^(true|false|null)$/.test(trimmed) || /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) || /^[[{"]/.test(trimmed)) {
    try {
      return JSON.parse(normaliseNumber(trimmed)) as Json;
    } catch (err) {
      if (/^[[{"]/.test(trimmed)) throw new UsageError(`Expected valid JSON after = in --option but received ${trimmed} (${(err as Error).message})`);
    }
  }
  return text;
}

/** JSON has no `1.` or `.5`; the shell user means 1.0 and 0.5. */
function normaliseNumber(text: string): string {
  return text.replace(/^(-?)\./, '$10.').replace(/\.(e|$)/i, '$1');
}

/** `validation.rtol=1e-3` -> ['validation', 'rtol'] and 0.001. */
export function parseOptionAssignment(text: string): { path: string[]; value: Json } {
  const at = text.indexOf('=');
  const rawPath = at < 0 ? '' : text.slice(0, at);
  const path = rawPath.split('.');
  if (at < 0 || path.some((p) => p === '')) {
    throw new UsageError(`Expected --option key.path=value (e.g. validation.rtol=1e-3) but received "${text}"`);
  }
  const bad = path.find((p) => FORBIDDEN_KEYS.has(p));
  if (bad) throw new UsageError(`Expected an option path of plain keys but received "${rawPath}" (${bad} is not an option)`);
  return { path, value: parseOptionValue(text.slice(at + 1)) };
}

/** Sets `value` at `path` inside `target`, creating objects on the way. */
export function setPath(target: JsonObject, path: string[], value: Json): void {
  let node: JsonObject = target;
  path.slice(0, -1).forEach((key, i) => {
    const next = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    if (next === undefined) {
      const created: JsonObject = {};
      put(node, key, created);
      node = created;
    } else if (isObject(next)) {
      node = next;
    } else {
      throw new UsageError(`Cannot set ${path.join('.')}: ${path.slice(0, i + 1).join('.')} is already ${JSON.stringify(next)}, not an object`);
    }
  });
  put(node, path[path.length - 1], value);
}

/** Defines an own property, so even an input named `__proto__` cannot reach a prototype. */
function put(node: JsonObject, key: string, value: Json): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface BuildOptionFlags {
  /** Parsed content of --options-file, if given. */
  file?: unknown;
  shapes?: string[];
  options?: string[];
}

/** The options object for POST /v1/builds, or undefined when no flag says anything. */
export function buildOptions(flags: BuildOptionFlags): JsonObject | undefined {
  if (flags.file !== undefined && !isObject(flags.file as Json)) {
    throw new UsageError(`Expected a JSON object in --options-file but received ${Array.isArray(flags.file) ? 'an array' : typeof flags.file}`);
  }
  const options: JsonObject = flags.file ? structuredClone(flags.file as JsonObject) : {};
  for (const text of flags.shapes ?? []) {
    const [name, dims] = parseShape(text);
    setPath(options, ['shapes', name], dims);
  }
  for (const text of flags.options ?? []) {
    const { path, value } = parseOptionAssignment(text);
    setPath(options, path, value);
  }
  return Object.keys(options).length ? options : undefined;
}

/** commander's collector for repeatable flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
