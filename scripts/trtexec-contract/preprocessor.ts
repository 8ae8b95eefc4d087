/**
 * The preprocessor, as far as trtexec's sources need it: `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else`
 * regions are kept as the open-source Linux build of trtexec compiles them. A macro the table
 * below does not know stops the script, so an option hidden behind a new build switch is never
 * silently counted in or out.
 */

/**
 * Macros as the standard Linux trtexec is built: WinML and the unified (safety) builder are off
 * (CMakeLists.txt of 11.1: TRT_BUILD_WINML OFF, TRT_BUILD_ENABLE_UNIFIED_BUILDER follows
 * BUILD_SAFE_SAMPLES, OFF; earlier releases never define them), trtexec links TensorRT
 * dynamically, no sanitizer, not Windows. CUDA_VERSION only gates fp8 printing in sampleUtils.cpp.
 */
const BUILD_MACROS: Record<string, number | undefined> = {
  TRT_WINML: 0,
  TRT_STATIC: 0,
  ENABLE_UNIFIED_BUILDER: 0,
  SANITIZER_BUILD: 0,
  _WIN32: undefined,
  CUDA_VERSION: 12000,
};

/** The text with inactive `#if` regions and directive lines blanked, newlines kept (so lines still match). */
export function preprocess(path: string, raw: string): string {
  const lines = raw.split('\n');
  const defined = new Set<string>();
  const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
  const active = () => stack.every((s) => s.active);
  return lines
    .map((line, n) => {
      const m = /^\s*#\s*(if|ifdef|ifndef|elif|else|endif|define)\b\s*(.*)$/.exec(line);
      if (!m) return active() ? line : '';
      const [, directive, rest] = m;
      const where = `${path}:${n + 1}`;
      if (directive === 'define') {
        if (active()) defined.add(rest.split(/\s|\(/)[0]);
      } else if (directive === 'if' || directive === 'ifdef' || directive === 'ifndef') {
        const parentActive = active();
        const value =
          directive === 'if' ? evaluate(rest, defined, where) : (defined.has(rest.trim()) || BUILD_MACROS[rest.trim()] !== undefined) === (directive === 'ifdef');
        stack.push({ active: value, taken: value, parentActive });
      } else if (directive === 'elif') {
        const top = stack.at(-1);
        if (!top) throw new Error(`${where}: #elif without #if`);
        top.active = !top.taken && evaluate(rest, defined, where);
        top.taken ||= top.active;
      } else if (directive === 'else') {
        const top = stack.at(-1);
        if (!top) throw new Error(`${where}: #else without #if`);
        top.active = !top.taken;
        top.taken = true;
      } else if (!stack.pop()) {
        throw new Error(`${where}: #endif without #if`);
      }
      return '';
    })
    .join('\n');
}

/** `#if` expressions: identifiers, numbers, defined(X), ! && || comparisons and parentheses. */
function evaluate(expr: string, defined: Set<string>, where: string): boolean {
  const tokens = expr.replace(/\/\/.*$|\/\*.*?\*\//g, '').match(/defined|[A-Za-z_]\w*|\d+|&&|\|\||[!=<>]=|[!()<>]/g) ?? [];
  let pos = 0;
  const value = (name: string): number => {
    if (defined.has(name)) return 1;
    if (!(name in BUILD_MACROS)) {
      throw new Error(`${where}: #if uses ${name}; add it to BUILD_MACROS with its value in the Linux build of trtexec`);
    }
    return BUILD_MACROS[name] ?? 0;
  };
  const primary = (): number => {
    const t = tokens[pos++];
    if (t === '!') return primary() ? 0 : 1;
    if (t === '(') {
      const v = or();
      pos++;
      return v;
    }
    if (t === 'defined') {
      const paren = tokens[pos] === '(';
      if (paren) pos++;
      const name = tokens[pos++];
      if (paren) pos++;
      return defined.has(name) || BUILD_MACROS[name] !== undefined ? 1 : 0;
    }
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]\w*$/.test(t)) return value(t);
    throw new Error(`${where}: cannot evaluate #if ${expr}`);
  };
  const compare = (): number => {
    let v = primary();
    while (['>=', '<=', '==', '!=', '<', '>'].includes(tokens[pos])) {
      const op = tokens[pos++];
      const w = primary();
      v = Number(op === '>=' ? v >= w : op === '<=' ? v <= w : op === '==' ? v === w : op === '!=' ? v !== w : op === '<' ? v < w : v > w);
    }
    return v;
  };
  const and = (): number => {
    let v = compare();
    while (tokens[pos] === '&&') {
      pos++;
      v = compare() && v ? 1 : 0;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (tokens[pos] === '||') {
      pos++;
      v = and() || v ? 1 : 0;
    }
    return v;
  };
  const result = or();
  if (pos !== tokens.length) throw new Error(`${where}: cannot evaluate #if ${expr}`);
  return result !== 0;
}

