/**
 * Just enough C++ reading to take facts out of NVIDIA's trtexec sources: the preprocessor's
 * `#if` regions of the open-source Linux build, a "masked" copy of the text where comments and
 * literal contents are blanked (so braces, parentheses and commas inside strings never confuse the
 * structure) while every index still points at the same character of the original, function and
 * lambda bodies, call arguments, string literals and error messages as templates.
 *
 * This is a reader for facts, not a compiler: anything it does not understand makes it throw, so a
 * new construct in a new release stops the script instead of silently dropping a fact.
 */

import { preprocess } from './preprocessor';

export interface SourceFile {
  /** Path inside the TensorRT repository, as cited: `samples/common/sampleOptions.cpp`. */
  path: string;
  /** The text with inactive `#if` regions blanked (newlines kept). */
  text: string;
  /** `text` with comments and the contents of literals replaced by spaces/`_`. */
  masked: string;
  lineStarts: number[];
}

export interface Block {
  /** Index of the opening `{`. */
  open: number;
  /** Index of the matching `}`. */
  close: number;
}

export interface Arg {
  text: string;
  start: number;
}

export interface Call {
  name: string;
  start: number;
  /** Index just after the closing `)`. */
  end: number;
  args: Arg[];
}

export function loadSource(path: string, raw: string): SourceFile {
  const text = preprocess(path, raw);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  return { path, text, masked: mask(text), lineStarts };
}

export function lineOf(file: SourceFile, index: number): number {
  let lo = 0;
  let hi = file.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (file.lineStarts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** `samples/common/sampleOptions.cpp:1210` */
export function cite(file: SourceFile, index: number): string {
  return `${file.path}:${lineOf(file, index)}`;
}

// ---------------------------------------------------------------------------------------------
// Masking: comments to spaces, literal contents to `_` (quotes kept), same length.

function mask(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number, fill: string) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = fill;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const stop = text.indexOf('*/', i + 2) + 2;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === 'R' && text[i + 1] === '"' && !/\w/.test(text[i - 1] ?? '')) {
      const open = text.indexOf('(', i + 2);
      const delim = text.slice(i + 2, open);
      const stop = text.indexOf(`)${delim}"`, open) + delim.length + 2;
      blank(i + 2, stop - 1, '_');
      i = stop;
    } else if (c === '"' || (c === "'" && !/\w/.test(text[i - 1] ?? ''))) {
      let j = i + 1;
      while (text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      blank(i + 1, j, '_');
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

// ---------------------------------------------------------------------------------------------
// Structure.

const OPENERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' };

/** Index of the bracket closing the one at `open` (masked text). */
export function matching(file: SourceFile, open: number): number {
  const want: string[] = [];
  for (let i = open; i < file.masked.length; i++) {
    const c = file.masked[i];
    if (OPENERS[c]) want.push(OPENERS[c]);
    else if (c === ')' || c === '}' || c === ']') {
      if (want.pop() !== c) throw new Error(`${cite(file, i)}: unbalanced ${c}`);
      if (want.length === 0) return i;
    }
  }
  throw new Error(`${cite(file, open)}: no closing bracket`);
}

/**
 * The body of a function whose definition starts with `head` (a regular expression source matched
 * at a line start, e.g. `void BuildOptions::parse\\(`): the block after its parameter list.
 */
export function findFunction(file: SourceFile, head: string, from = 0): Block | undefined {
  const re = new RegExp(`^[^\\n;{}]*?${head}`, 'gm');
  re.lastIndex = from;
  for (let m = re.exec(file.masked); m; m = re.exec(file.masked)) {
    const paren = file.masked.indexOf('(', m.index + m[0].length - 1);
    const close = matching(file, paren);
    const after = /^[\s\w:]*\{/.exec(file.masked.slice(close + 1));
    if (!after) continue; // a declaration, not the definition
    const open = close + after[0].length;
    return { open, close: matching(file, open) };
  }
  return undefined;
}

/** A lambda `auto name = [...](params) { ... }` inside `within`: its parameter names and body. */
export function findLambda(file: SourceFile, within: Block, name: string): { params: string[]; body: Block } | undefined {
  const re = new RegExp(`\\bauto\\s+${name}\\s*=\\s*\\[`, 'g');
  re.lastIndex = within.open;
  const m = re.exec(file.masked);
  if (!m || m.index > within.close) return undefined;
  const captureClose = matching(file, m.index + m[0].length - 1);
  const paren = file.masked.indexOf('(', captureClose);
  const close = matching(file, paren);
  const open = file.masked.indexOf('{', close);
  return { params: paramNames(file, paren, close), body: { open, close: matching(file, open) } };
}

/** A free function `... name(params) {` anywhere in the file. */
export function findFreeFunction(file: SourceFile, name: string): { params: string[]; body: Block } | undefined {
  const re = new RegExp(`^[\\w:<>,&*\\s]*?\\b${name}\\s*\\(`, 'gm');
  for (let m = re.exec(file.masked); m; m = re.exec(file.masked)) {
    const paren = m.index + m[0].length - 1;
    const close = matching(file, paren);
    const after = /^[\s\w]*\{/.exec(file.masked.slice(close + 1));
    if (!after) continue;
    const open = close + after[0].length;
    return { params: paramNames(file, paren, close), body: { open, close: matching(file, open) } };
  }
  return undefined;
}

/** Parameter names; in a parameter list `<` and `>` only ever bracket template arguments. */
function paramNames(file: SourceFile, open: number, close: number): string[] {
  return splitArgs(file, open, close, true).map((a) => /(\w+)\s*(?:=.*)?$/s.exec(a.text.trim())?.[1] ?? '');
}

function splitArgs(file: SourceFile, open: number, close: number, angles = false): Arg[] {
  const args: Arg[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i <= close; i++) {
    const c = file.masked[i];
    if (OPENERS[c] || (angles && c === '<')) depth++;
    else if (((c === ')' || c === '}' || c === ']') && i !== close) || (angles && c === '>')) depth--;
    if ((c === ',' && depth === 0) || i === close) {
      if (i > start || args.length > 0) args.push({ text: file.text.slice(start, i), start });
      start = i + 1;
    }
  }
  return args.filter((a) => a.text.trim() !== '' || args.length > 1);
}

/** Calls of functions whose name matches `name` inside `block`, in source order. */
export function callsIn(file: SourceFile, block: Block, name: RegExp): Call[] {
  const re = /\b([A-Za-z_]\w*)\s*(?:<[^;(){}]*>)?\s*\(/g;
  re.lastIndex = block.open;
  const calls: Call[] = [];
  for (let m = re.exec(file.masked); m && m.index < block.close; m = re.exec(file.masked)) {
    if (!name.test(m[1])) continue;
    const open = m.index + m[0].length - 1;
    const close = matching(file, open);
    calls.push({ name: m[1], start: m.index, end: close + 1, args: splitArgs(file, open, close) });
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Literals and messages.

/** The value of a string literal expression (`"a" "b"`, `std::string("a")`), or undefined. */
export function stringLiteral(expr: string): string | undefined {
  const inner = /^\s*(?:std::string\s*[({]\s*)?((?:"(?:[^"\\]|\\.)*"\s*)+)[)}]?\s*$/s.exec(expr);
  if (!inner) return undefined;
  let out = '';
  for (const m of inner[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)) out += unescape(m[1]);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', '0': '\0' })[c] ?? c);
}

export interface Message {
  /** The text with `{}` where a value is inserted, in order. */
  message: string;
  /** The C++ expressions inserted, in order. */
  args: string[];
  source: string;
}

/**
 * An error message as a template: `std::string("Unknown memory pool: ") + memPoolName` becomes
 * "Unknown memory pool: {}" with args ["memPoolName"]. `separator` is `+` for strings, `<<` for streams.
 */
export function messageTemplate(expr: string, separator: '+' | '<<', source: string): Message {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && expr.startsWith(separator, i) && !(separator === '+' && expr[i + 1] === '+')) {
      parts.push(expr.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(expr.slice(start));
  let message = '';
  const args: string[] = [];
  for (const part of parts) {
    const literal = stringLiteral(part);
    if (literal !== undefined) message += literal;
    else if (!/^\s*std::endl\s*$/.test(part)) {
      message += '{}';
      args.push(part.replace(/\s+/g, ' ').trim());
    }
  }
  return { message, args, source };
}

/** `throw std::invalid_argument(...)` inside [from, to): each as a message template. */
export function throwsIn(file: SourceFile, from: number, to: number): (Message & { index: number })[] {
  const out: (Message & { index: number })[] = [];
  const re = /\bthrow\s+std::invalid_argument\s*\(/g;
  re.lastIndex = from;
  for (let m = re.exec(file.masked); m && m.index < to; m = re.exec(file.masked)) {
    const open = m.index + m[0].length - 1;
    const close = matching(file, open);
    let expr = file.text.slice(open + 1, close);
    // `throw std::invalid_argument(errorMsg)` after `std::string errorMsg = ...;`: the message is that expression.
    const named = /^\s*(\w+)\s*$/.exec(expr);
    const built = named && [...file.text.slice(Math.max(from, m.index - 3000), m.index).matchAll(new RegExp(`\\b${named[1]}\\s*=([^;]*);`, 'g'))].pop();
    if (built) expr = built[1];
    out.push({ ...messageTemplate(expr, '+', cite(file, m.index)), index: m.index });
  }
  return out;
}

/** The condition of the innermost `if (...)` or `while (...)` whose body (not condition) holds `index`. */
export function enclosingCondition(file: SourceFile, index: number, stopAt: number): { keyword: string; condition: string; at: number } | undefined {
  let depth = 0;
  for (let i = index - 1; i > stopAt; i--) {
    const c = file.masked[i];
    if (c === '}') depth++;
    else if (c === '{') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const before = file.masked.slice(stopAt, i).trimEnd();
      if (!before.endsWith(')')) return undefined;
      const closeParen = stopAt + before.length - 1;
      let open = closeParen;
      for (let d = 0; open > stopAt; open--) {
        if (file.masked[open] === ')') d++;
        else if (file.masked[open] === '(' && --d === 0) break;
      }
      const keyword = /(\w+)\s*$/.exec(file.masked.slice(stopAt, open))?.[1] ?? '';
      if (keyword !== 'if' && keyword !== 'while') return undefined;
      return { keyword, condition: file.text.slice(open + 1, closeParen).replace(/\s+/g, ' ').trim(), at: open };
    }
  }
  return undefined;
}
