/**
 * `kiln build --sweep PATH=A,B,C` (repeatable) and `--best METRIC[:BATCH]` as the `sweep` and `best`
 * of POST /v1/builds. Each value reads like an --option value (number, true/false, JSON, or text);
 * commas inside [...], {...} or "..." do not split, so `tensorrt.precision=[],["fp16"]` is two values.
 */
import { parseOptionValue, UsageError } from './build-options';

type Json = ReturnType<typeof parseOptionValue>;

/** Splits on commas outside brackets, braces and quotes. */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && (c === '[' || c === '{')) depth++;
    else if (!quoted && (c === ']' || c === '}')) depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function sweepFromFlags(flags: string[] | undefined): Record<string, Json[]> | undefined {
  if (!flags?.length) return undefined;
  const sweep: Record<string, Json[]> = {};
  for (const text of flags) {
    const at = text.indexOf('=');
    const path = at < 0 ? '' : text.slice(0, at).trim();
    const values = at < 0 ? [] : splitValues(text.slice(at + 1)).filter((v) => v.trim() !== '');
    if (!/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)*$/.test(path) || values.length === 0) {
      throw new UsageError(`Expected --sweep option.path=VALUE,VALUE,... (e.g. onnxruntime.intraOpNumThreads=1,2,4) but received "${text}"`);
    }
    sweep[path] = [...(sweep[path] ?? []), ...values.map(parseOptionValue)];
  }
  return sweep;
}

/** `latency`, `throughput`, `latency:8` -> { metric, batch? }. */
export function bestFromFlag(text: string | undefined): { metric: 'latency' | 'throughput'; batch?: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(latency|throughput)(?::(\d+))?$/.exec(text.trim());
  if (!match || (match[2] !== undefined && Number(match[2]) < 1)) {
    throw new UsageError(`Expected --best latency or throughput, optionally with :BATCH (e.g. throughput:8), but received "${text}"`);
  }
  return { metric: match[1] as 'latency' | 'throughput', ...(match[2] ? { batch: Number(match[2]) } : {}) };
}
