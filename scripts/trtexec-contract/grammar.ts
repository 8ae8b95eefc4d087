/**
 * The value grammar of the options Kiln uses, read from one release's sources: the name tables
 * of the stringToValue<...> specialisations, the `if (x == "...")` chains and lookup maps that
 * follow an option's take in BuildOptions::parse (up to the `throw` that rejects anything else),
 * the helpers that split lists and names, and the error each rejection throws.
 */
import {
  cite,
  findFreeFunction,
  findFunction,
  matching,
  messageTemplate,
  throwsIn,
  type Block,
  type Message,
  type SourceFile,
} from './cpp-source';
import type { Take } from './options';

export interface Named {
  source: string;
  /** What the name selects in TensorRT (the enumerator it maps to). */
  means?: string;
  /** Compared after lower- or upper-casing the value. */
  caseInsensitive?: true;
  /** The warning printed when it is used. */
  deprecated?: { says: string; source: string };
}

export type Choices = { values: Record<string, Named>; error: Message };

/** A name table: `{"fp16", nvinfer1::DataType::kHALF}` entries of one function. */
export function nameTable(file: SourceFile, head: string): { names: Record<string, Named>; error: Message; body: Block } | undefined {
  const body = findFunction(file, head);
  if (!body) return undefined;
  const names: Record<string, Named> = {};
  for (const m of file.text.slice(body.open, body.close).matchAll(/\{\s*"([^"]*)"\s*,\s*([\w:]+)\s*\}/g)) {
    names[m[1]] = { source: cite(file, body.open + m.index!), means: m[2].split('::').pop() };
  }
  const [error] = throwsIn(file, body.open, body.close);
  if (!error || Object.keys(names).length === 0) throw new Error(`${cite(file, body.open)}: expected a name table and its error`);
  return { names, error: strip(error), body };
}

/** The separator character of `splitToStringVec(x, 'c')` inside a block. */
export function splitChar(file: SourceFile, block: Block, what = '\\w+'): { char: string; source: string } {
  const re = new RegExp(`splitToStringVec\\(\\s*${what}\\s*,\\s*'(\\\\?.)'`, 'g');
  re.lastIndex = block.open;
  const m = re.exec(file.text);
  if (!m || m.index > block.close) throw new Error(`${cite(file, block.open)}: no splitToStringVec(${what}, ...)`);
  return { char: m[1].replace(/^\\/, ''), source: cite(file, m.index) };
}

/**
 * The accepted values of a string option: comparisons (`v == "x"`, `toLower(v) == "x"`,
 * `v.compare("x") == 0`) and lookup-map entries between its take and the throw that rejects
 * anything else (the first whose message matches `rejection`). `v` is the variable that throw names.
 */
export function choices(file: SourceFile, take: Take, rejection: RegExp): Choices & { end: number } {
  const error = throwsIn(file, take.index, file.text.length).find((t) => rejection.test(t.message));
  if (!error) throw new Error(`${take.source}: no throw matching ${rejection} after ${take.name}`);
  const variable = error.args.find((a) => /^\w+$/.test(a));
  const text = file.text.slice(take.index, error.index);
  const values: Record<string, Named> = {};
  const caseFolded = variable && new RegExp(`\\b${variable}\\s*=\\s*to(?:Upper|Lower)\\(`).test(text);
  const compared = new RegExp(`(?:(\\w+(?:::\\w+)*)\\(\\s*)?\\b${variable ?? '\\w+'}\\b\\s*\\)?\\s*(?:==\\s*"([^"]*)"|\\.compare\\(\\s*"([^"]*)"\\s*\\)\\s*==\\s*0)`, 'g');
  for (const m of text.matchAll(compared)) {
    const at = take.index + m.index!;
    const value = m[2] ?? m[3];
    const named: Named = { source: cite(file, at) };
    if (m[1] && /to(Lower|Upper)$/i.test(m[1])) named.caseInsensitive = true;
    if (caseFolded) named.caseInsensitive = true;
    Object.assign(named, branchEffect(file, at, error.index));
    values[value] ??= named;
  }
  for (const m of text.matchAll(/\{\s*"([^"]*)"\s*,\s*([\w:]+::k\w+)\s*\}/g)) {
    values[m[1]] ??= { source: cite(file, take.index + m.index!), means: m[2].split('::').pop() };
  }
  if (Object.keys(values).length === 0) throw new Error(`${take.source}: no accepted values found for ${take.name}`);
  return { values, error: strip(error), end: error.index };
}

/**
 * What the branch after a comparison does: the enumerator it assigns (or, for a size, the unit it
 * divides by: `workspace = memPoolSize / 1.0_MiB`) and any deprecation warning.
 */
function branchEffect(file: SourceFile, at: number, limit: number): Pick<Named, 'means' | 'deprecated'> {
  const open = file.masked.indexOf('{', at);
  if (open < 0 || open > limit) return {};
  const close = matching(file, open);
  const body = file.text.slice(open, close);
  const out: Pick<Named, 'means' | 'deprecated'> = {};
  const assigned = /=\s*[\w:]*::(k\w+)\s*;/.exec(body);
  const divided = /=\s*\w+\s*\/\s*1\.0_(\w+)\s*;/.exec(body);
  if (assigned) out.means = assigned[1];
  else if (divided) out.means = `bytes / ${divided[1]}`;
  const warning = /gLogWarning\s*<<([^;]*);/.exec(body);
  if (warning && /deprecated/i.test(warning[1])) {
    const said = messageTemplate(warning[1], '<<', cite(file, open + warning.index));
    out.deprecated = { says: said.message, source: said.source };
  }
  return out;
}

function strip(m: Message & { index?: number }): Message {
  return { message: m.message, args: m.args, source: m.source };
}

export function takeOf(takes: Take[], name: string): Take | undefined {
  return takes.find((t) => t.name === name && t.direct) ?? takes.find((t) => t.name === name);
}

// ---------------------------------------------------------------------------------------------
// memPoolSize: pool names, and how `<pool>:<size>` is read (unit suffixes from 10.0).

export function memPoolSize(file: SourceFile, take: Take) {
  const pools = choices(file, take, /Unknown memory pool/);
  const block = file.text.slice(take.index, pools.end);
  // Without a divisor (8.6-10.0) the number read is the pool size in the pool's own unit.
  for (const pool of Object.values(pools.values)) pool.means ??= 'as read';
  const defaultSuffix = /addDefaultUnitSuffixIfNotSpecified\(\s*\w+\s*,\s*'(.)'\s*\)/.exec(block);
  const toDouble = findFunction(file, 'stringToValue<double>\\(');
  if (!toDouble) throw new Error(`${file.path}: no stringToValue<double>`);
  const usesUnits = /getUnitMultiplier\s*\(/.test(file.text.slice(toDouble.open, toDouble.close));
  const unitSuffixes: Record<string, { bytes: number; name: string; source: string }> = {};
  let badSuffix: Message | undefined;
  if (usesUnits) {
    const table = /kUNIT_MULTIPLIERS\s*\{/.exec(file.masked);
    if (!table) throw new Error(`${file.path}: getUnitMultiplier without kUNIT_MULTIPLIERS`);
    const close = matching(file, table.index + table[0].length - 1);
    for (const m of file.text.slice(table.index, close).matchAll(/\{\s*'(.)'\s*,\s*\{\s*([\dLlUu<\s]+)\s*,\s*"([^"]*)"\s*\}\s*\}/g)) {
      const [base, shift] = m[2].split('<<').map((n) => Number(n.replace(/[LlUu]/g, '').trim()));
      unitSuffixes[m[1]] = { bytes: shift === undefined ? base : base * 2 ** shift, name: m[3], source: cite(file, table.index + m.index!) };
    }
    if (Object.keys(unitSuffixes).length === 0) throw new Error(`${cite(file, table.index)}: cannot read kUNIT_MULTIPLIERS`);
    badSuffix = streamError(file, 'int64_t getUnitMultiplier\\(');
  }
  const catchThrow = throwsIn(file, take.index, pools.end).find((t) => /conversion failure/.test(t.message));
  const negative = throwsIn(file, take.index, pools.end).find((t) => /Negative memory pool size/.test(t.message));
  return {
    pools: pools.values,
    size: {
      // 8.6-9.3 std::stod only; 10.0 multiplies by the suffix but uses the number as MiB; 10.1+ appends 'M' when no suffix.
      parse: cite(file, toDouble.open),
      unitSuffixes,
      ...(defaultSuffix ? { defaultUnitSuffix: defaultSuffix[1] } : {}),
    },
    errors: {
      unknownPool: pools.error,
      ...(negative ? { negative: strip(negative) } : {}),
      ...(catchThrow ? { conversion: strip(catchThrow) } : {}),
      ...(badSuffix ? { badUnitSuffix: badSuffix } : {}),
    },
  };
}

/** `ss << ...; throw std::invalid_argument(ss.str());` inside a function, as one template. */
function streamError(file: SourceFile, head: string): Message {
  const body = findFunction(file, head);
  if (!body) throw new Error(`${file.path}: no ${head}`);
  const [thrown] = throwsIn(file, body.open, body.close);
  const text = file.text.slice(body.open, thrown.index);
  const parts = [...text.matchAll(/\bss\s*<<([^;]*);/g)].map((m) => m[1]);
  return { ...messageTemplate(parts.join('<<'), '<<', thrown.source), source: thrown.source };
}

// ---------------------------------------------------------------------------------------------
// Names inside list values: `name:value` pairs and how trtexec matches them to layers or inputs.

export function nameValueRule(file: SourceFile) {
  const fn = findFunction(file, 'std::pair<std::string, T> splitNameAndValue\\(');
  if (!fn) throw new Error(`${file.path}: no splitNameAndValue`);
  const body = file.text.slice(fn.open, fn.close);
  if (!/splitToStringVec\(\s*s\s*,\s*'\\''\s*\)/.test(body) || !/splitToStringVec\(\s*s\s*,\s*':'\s*\)/.test(body)) {
    throw new Error(`${cite(file, fn.open)}: splitNameAndValue no longer splits on ' and then :`);
  }
  const [quoteError] = throwsIn(file, fn.open, fn.close);
  return {
    // A name in single quotes is taken whole ('a:b':v); otherwise the value follows the last ':'.
    split: 'last-colon-unless-quoted' as const,
    source: cite(file, fn.open),
    errors: { quotes: strip(quoteError) },
  };
}

/** How --layerPrecisions names meet layer names, from sampleEngines.cpp's setLayerPrecisions. */
export function layerMatching(engines: SourceFile, utils: SourceFile | undefined, fnName: string, mapName: string) {
  const fn = findFreeFunction(engines, fnName);
  if (!fn) return undefined;
  const body = engines.text.slice(fn.body.open, fn.body.close);
  const at = (re: RegExp) => cite(engines, fn.body.open + (re.exec(body)?.index ?? 0));
  if (new RegExp(`findPlausible\\(\\s*${mapName}`).test(body)) {
    return { kind: 'exact-then-one-wildcard' as const, source: at(/findPlausible/), wildcard: wildcardRule(utils) };
  }
  if (new RegExp(`${mapName}\\.find\\("\\*"\\)`).test(body)) {
    return { kind: 'exact-or-star-default' as const, source: at(/\.find\("\*"\)/) };
  }
  throw new Error(`${cite(engines, fn.body.open)}: ${fnName} matches names in a way the script does not know`);
}

/** matchStringWithOneWildcard: the pattern splits at its first '*' into prefix and suffix. */
export function wildcardRule(utils: SourceFile | undefined) {
  const fn = utils && findFreeFunction(utils, 'matchStringWithOneWildcard');
  if (!utils || !fn) throw new Error('findPlausible without matchStringWithOneWildcard');
  const split = /splitToStringVec\(\s*pattern\s*,\s*'\*'\s*,\s*1\s*\)/.exec(utils.text.slice(fn.body.open, fn.body.close));
  if (!split) throw new Error(`${cite(utils, fn.body.open)}: the wildcard is no longer the first '*'`);
  return { split: 'first-star' as const, source: cite(utils, fn.body.open + split.index) };
}

/** Whether build-time input names (shape specs) are matched with the one-wildcard rule. */
export function shapeNameMatching(engines: SourceFile) {
  const m = /matchStringWithOneWildcard\(\s*shape\.first/.exec(engines.masked);
  return m ? { kind: 'exact-then-one-wildcard' as const, source: cite(engines, m.index) } : { kind: 'exact' as const };
}

/** Statements `if (build.X) { config.setFlag(BuilderFlag::kY); }` of sampleEngines.cpp: X -> kY. */
export function builderFlags(engines: SourceFile): Record<string, { flag: string; source: string }> {
  const out: Record<string, { flag: string; source: string }> = {};
  for (const m of engines.text.matchAll(/if\s*\(\s*build\.(\w+)\s*\)\s*\{\s*(?:\/\/[^\n]*\n\s*)*config\.setFlag\(\s*BuilderFlag::(k\w+)\s*\)/g)) {
    out[m[1]] ??= { flag: m[2], source: cite(engines, m.index!) };
  }
  return out;
}

