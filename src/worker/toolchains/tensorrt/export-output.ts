/**
 * Reads the file `trtexec --exportOutput=F` writes (exportJSONOutput in
 * samples/common/sampleReporting.cpp, 8.6 and 10.x):
 *
 *   [
 *     { "name" : "logits"
 *     , "dimensions" : "1x10"
 *     , "values" : [ 0.25, -1.5, ... ]
 *     }
 *   , { "name" : ...
 *   ]
 *
 * Values are printed by a C++ ostream (6 significant digits, `inf`/`nan` for non-finite values,
 * which JSON does not allow), so this is a small tolerant reader rather than JSON.parse. Outputs
 * come in no particular order: look them up by name.
 */
import { readFile } from 'node:fs/promises';

export interface ExportedOutput {
  name: string;
  /** `1x10` -> [1, 10]; a scalar has []. */
  dims: number[];
  values: Float64Array;
}

const ENTRY = /\{\s*"name"\s*:\s*"([^"]*)"\s*,\s*"dimensions"\s*:\s*"([^"]*)"\s*,\s*"values"\s*:\s*\[([^\]]*)\]\s*\}/g;

export async function readExportedOutputs(path: string): Promise<ExportedOutput[]> {
  return parseExportedOutputs(await readFile(path, 'utf8'), path);
}

export function parseExportedOutputs(text: string, shown = 'the exported outputs'): ExportedOutput[] {
  const outputs: ExportedOutput[] = [];
  for (const m of text.matchAll(ENTRY)) {
    const dims = m[2] === '' ? [] : m[2].split('x').map(Number);
    if (!dims.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`Expected dimensions like 1x10 for output ${m[1]} in ${shown} but received "${m[2]}"`);
    }
    const tokens = m[3].trim() === '' ? [] : m[3].split(',');
    const values = new Float64Array(tokens.length);
    tokens.forEach((token, i) => {
      values[i] = cppNumber(token.trim());
      if (Number.isNaN(values[i]) && !/nan/i.test(token)) {
        throw new Error(`Expected a number in output ${m[1]} of ${shown} but received "${token.trim()}" at index ${i}`);
      }
    });
    const volume = dims.reduce((a, b) => a * b, 1);
    if (volume !== values.length) {
      throw new Error(`Expected ${volume} values for output ${m[1]} (${m[2]}) in ${shown} but received ${values.length}`);
    }
    outputs.push({ name: m[1], dims, values });
  }
  if (outputs.length === 0 && !/^\s*\[\s*\]\s*$/.test(text)) {
    throw new Error(`Expected trtexec --exportOutput JSON in ${shown} but found no outputs`);
  }
  return outputs;
}

/** A number as a C++ ostream prints it: `1.5`, `1e-05`, `inf`, `-nan`. */
function cppNumber(token: string): number {
  const t = token.toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  return t === '' ? NaN : Number(t);
}
