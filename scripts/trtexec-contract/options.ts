/**
 * Every option one release's trtexec accepts, read from its parser the way trtexec runs it:
 * trtexec.cpp's main calls AllOptions::parse, which calls `<member>.parse(arguments)` for each
 * option group (model, build, system, inference, reporting, tuning from 11.1) and parseHelp; each
 * parse takes its options out of the argument map with getAndDelOption and friends, directly or
 * through a helper (getLayerPrecisions(arguments, "--layerPrecisions", ...)). Whatever is left in
 * the map afterwards is an `Unknown option`. So an option is accepted exactly when some call in
 * that tree takes it out, and it is a flag exactly when the variable it is read into is a bool
 * (stringToValue<bool> ignores the value).
 */
import {
  callsIn,
  cite,
  enclosingCondition,
  findFreeFunction,
  findFunction,
  findLambda,
  messageTemplate,
  stringLiteral,
  type Block,
  type Call,
  type SourceFile,
} from './cpp-source';

export interface OptionFact {
  /** The AllOptions member whose parse takes it: model, build, system, inference, reporting, tuning, help. */
  group: string;
  /** `flag` when read into a bool (any `=value` is ignored), else `value`. */
  kind: 'flag' | 'value';
  /** C++ type of the variable the value is read into. */
  type: string;
  source: string;
  /** Taken in a loop, so it may be given more than once. */
  repeatable?: true;
  /** Another spelling of this option (the help text lists them together, or this one is deprecated in its favour). */
  aliasOf?: string;
  /** Only taken when its alias was not given: both on one command line leave this one unknown. */
  parsedOnlyWithout?: string;
  /** Taken only under this C++ condition (resolved by the script's override table). */
  parsedOnlyIf?: string;
  deprecated?: { help?: Said; warning?: Said };
  /** The BuilderFlag sampleEngines.cpp sets when the option is on. */
  builderFlag?: string;
}

export interface Said {
  says: string;
  source: string;
}

/** A take of an option out of the argument map, with what the option is read into. */
export interface Take {
  name: string;
  group: string;
  dest: string;
  type: string;
  source: string;
  /** Parse order: the index of the call in the parse body (a helper's takes share its call's). */
  index: number;
  /** Taken in the parse body itself (or by a helper given the name there), not inside a helper by its own name. */
  direct: boolean;
  repeatable: boolean;
  condition?: string;
  /** The helper body the option is taken in, when a helper takes it. */
  via?: Block;
}

/** Functions that take an option out of the map; the value is the argument index of the destination. */
const TAKERS: Record<string, number> = {
  getAndDelOption: 2,
  getAndDelNegOption: 2,
  getAndDelRepeatedOption: 2,
  getAndDelOptionWithPosition: 2,
  getAndDelOptionBehind: 3,
};

export interface ParserSources {
  options: SourceFile;
  header: SourceFile;
}

/** Every take in the parse tree, in source order. */
export function readTakes(src: ParserSources): Take[] {
  const takes: Take[] = [];
  const all = mustFind(src.options, 'void AllOptions::parse\\(');
  const members = classMembers(src.header, 'AllOptions');
  for (const call of callsIn(src.options, all, /^(parse|parseHelp)$/)) {
    const member = /(\w+)\s*\.\s*$/.exec(src.options.masked.slice(all.open, call.start))?.[1];
    if (call.name === 'parseHelp') {
      const help = findFreeFunction(src.options, 'parseHelp');
      if (!help) throw new Error(`${cite(src.options, call.start)}: parseHelp not found`);
      takes.push(...takesIn(src, help.body, 'help', {}));
    } else if (member) {
      takes.push(...parseTree(src, typeOf(members, member, src.header), member));
    }
  }
  return takes.sort((a, b) => a.index - b.index);
}

function parseTree(src: ParserSources, className: string, group: string): Take[] {
  const body = mustFind(src.options, `void ${className}::parse\\(`);
  const members = classMembers(src.header, className);
  const out = takesIn(src, body, group, members);
  for (const call of callsIn(src.options, body, /^parse$/)) {
    const member = /(\w+)\s*\.\s*$/.exec(src.options.masked.slice(body.open, call.start))?.[1];
    if (member) out.push(...parseTree(src, typeOf(members, member, src.header), group));
  }
  return out;
}

function takesIn(src: ParserSources, body: Block, group: string, members: Record<string, string>, order = 0, seen = new Set<number>()): Take[] {
  const file = src.options;
  const out: Take[] = [];
  seen.add(body.open);
  for (const call of callsIn(file, body, /^\w+$/)) {
    const literalAt = call.args.findIndex((a) => /^-{1,2}[A-Za-z]\w*$/.test(stringLiteral(a.text) ?? ''));
    const passesArguments = call.args.some((a) => a.text.trim() === 'arguments');
    if ((!passesArguments && literalAt < 0) || call.name === 'parse' || call.name === 'getOption') continue;
    const loop = /\bwhile\s*\(\s*$/.exec(file.masked.slice(body.open, call.start));
    const repeatable = Boolean(loop);
    // The condition around the call (or around its `while` loop), unless the call is that condition.
    const condition = enclosingCondition(file, loop ? body.open + loop.index : call.start, body.open)?.condition;
    const at = order || call.start;
    if (call.name in TAKERS) {
      if (literalAt < 0) continue; // the helper's own take of its parameter, read at its call site
      const name = stringLiteral(call.args[literalAt].text)!;
      const dest = destOf(call);
      const type = call.name === 'getAndDelNegOption' ? 'bool' : declaredType(file, body, call.start, dest, members);
      out.push({ name, group, dest, type, source: cite(file, call.start), index: at, direct: !order, repeatable: repeatable || call.name === 'getAndDelRepeatedOption', condition });
      continue;
    }
    const helper = findLambda(file, body, call.name) ?? findFreeFunction(file, call.name);
    if (!helper) {
      if (literalAt >= 0) throw new Error(`${cite(file, call.start)}: cannot find ${call.name}, which is given an option name`);
      continue;
    }
    if (literalAt >= 0) {
      // A helper that takes the option named by one of its parameters.
      const name = stringLiteral(call.args[literalAt].text)!;
      const param = helper.params[literalAt];
      const inner = callsIn(file, helper.body, /^getAndDel\w*$/).find((c) => c.args[1]?.text.trim() === param);
      if (!inner) throw new Error(`${cite(file, call.start)}: ${call.name} does not take its ${param} out of the arguments`);
      const dest = destOf(inner);
      // `while (getAndDelOptionWithPosition(arguments, argument, ...))` in the helper repeats it too (--profile).
      const repeats = repeatable || /\bwhile\s*\(\s*$/.test(file.masked.slice(helper.body.open, inner.start));
      out.push({ name, group, dest, type: declaredType(file, helper.body, inner.start, dest, {}), source: cite(file, call.start), index: at, direct: !order, repeatable: repeats, condition, via: helper.body });
    }
    // Options the helper takes by their own names (getOptimizationProfiles' --minShapes, getRefPairs' --refPair).
    if (!seen.has(helper.body.open)) out.push(...takesIn(src, helper.body, group, {}, at + 0.5, seen));
  }
  return out;
}

function destOf(call: Call): string {
  return call.args[TAKERS[call.name]].text.trim().replace(/^this->/, '');
}

/** Options, aliases and deprecations of one release. */
export function readOptions(src: ParserSources, takes: Take[]): Record<string, OptionFact> {
  const options: Record<string, OptionFact> = {};
  for (const name of new Set(takes.map((t) => t.name))) {
    const all = takes.filter((t) => t.name === name);
    // Cite the first plain take (in the parse body, unconditional), else the first direct one.
    const take = all.find((t) => t.direct && !t.condition) ?? all.find((t) => t.direct) ?? all[0];
    const fact: OptionFact = { group: take.group, kind: take.type === 'bool' ? 'flag' : 'value', type: take.type, source: take.source };
    if (all.some((t) => t.repeatable)) fact.repeatable = true;
    if (all.every((t) => t.condition)) fact.parsedOnlyIf = all[0].condition;
    options[name] = fact;
  }
  const help = helpLines(src.options);
  const warnings = deprecationWarnings(src.options, takes);
  for (const [name, fact] of Object.entries(options)) {
    const line = help.find((h) => h.names.includes(name));
    const deprecated: OptionFact['deprecated'] = {};
    if (line && /\[deprecated\]/i.test(line.says)) deprecated.help = { says: line.says, source: line.source };
    if (warnings[name]) deprecated.warning = warnings[name];
    if (deprecated.help || deprecated.warning) fact.deprecated = deprecated;
  }
  // Aliases: listed together on one help line (the first is the main spelling) ...
  for (const line of help) {
    const [main, ...others] = line.names.filter((n) => options[n]);
    for (const other of others) options[other].aliasOf = main;
  }
  // ... or read into the same variable, one deprecated in favour of the other.
  for (const a of takes) {
    for (const b of takes) {
      if (a === b || a.name === b.name || a.dest !== b.dest || a.group !== b.group || options[a.name].aliasOf) continue;
      const why = [options[a.name].deprecated?.help?.says, options[a.name].deprecated?.warning?.says].join(' ');
      if (new RegExp(`${b.name}\\b`).test(why)) options[a.name].aliasOf = b.name;
    }
  }
  // `if (!versionCompatible) getAndDelOption(arguments, "--versionCompatible", versionCompatible)`.
  for (const take of takes) {
    const fact = options[take.name];
    const alias = takes.find((t) => t.name !== take.name && t.dest === take.dest && (fact.aliasOf === t.name || options[t.name].aliasOf === take.name));
    if (alias && take.condition === `!${take.dest}`) {
      fact.parsedOnlyWithout = alias.name;
      delete fact.parsedOnlyIf;
    }
  }
  return options;
}

interface HelpLine {
  names: string[];
  says: string;
  source: string;
}

/** The first line of each option's entry in the help text (the `help` functions' literals). */
function helpLines(file: SourceFile): HelpLine[] {
  const lines: HelpLine[] = [];
  const seen = new Set<number>();
  for (const m of file.masked.matchAll(/^[^\n;{}]*::help\s*\(|^[^\n;{}]*\bhelpHelp\s*\(/gm)) {
    const body = findFunction(file, escape(m[0].trim()), m.index);
    if (!body || seen.has(body.open)) continue;
    seen.add(body.open);
    const text = file.text.slice(body.open, body.close);
    for (const lit of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      const option = /^ {2,4}((?:-{1,2}[A-Za-z]\w*(?:=\S*)?)(?:\s*,\s*-{1,2}[A-Za-z]\w*(?:=\S*)?)*)(?:\s+(.*?))?\s*$/.exec(stringLiteral(`"${lit[1]}"`)!);
      if (!option) continue;
      const names = option[1].split(',').map((n) => n.trim().replace(/=.*$/, ''));
      lines.push({ names, says: option[2] ?? '', source: cite(file, body.open + lit.index!) });
    }
  }
  return lines;
}

/** `--streams flag has been deprecated, use --infStreams flag instead.` warnings of the parsers. */
function deprecationWarnings(file: SourceFile, takes: Take[]): Record<string, Said> {
  const out: Record<string, Said> = {};
  const from = Math.min(...takes.map((t) => t.index));
  const to = Math.max(...takes.map((t) => t.index));
  for (const m of file.masked.matchAll(/gLogWarning\s*<</g)) {
    if (m.index! < from - 2000 || m.index! > to + 2000) continue;
    const end = file.masked.indexOf(';', m.index);
    const said = messageTemplate(file.text.slice(m.index! + m[0].length, end), '<<', cite(file, m.index!));
    const option = /^(-{1,2}[A-Za-z]\w*)(?: flag)? (?:has been|is) deprecated/.exec(said.message);
    if (option && !out[option[1]]) out[option[1]] = { says: said.message, source: said.source };
  }
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Declarations.

function mustFind(file: SourceFile, head: string): Block {
  const block = findFunction(file, head);
  if (!block) throw new Error(`${file.path}: no ${head.replace(/\\/g, '')} found`);
  return block;
}

const DECLARATION = (name: string) =>
  new RegExp(
    `(?:^|[;{}(,]|\\n)\\s*((?:const\\s+)?(?:[A-Za-z_]\\w*::)*[A-Za-z_]\\w*(?:<[^;(){}]*?>)?(?:\\s+const)?)\\s+(?:[A-Za-z_]\\w*\\s*(?:\\{[^{};]*\\})?\\s*,\\s*)*${name}\\s*(?:\\{[^{};]*\\}|=[^;,]*)?\\s*[;,]`,
    'g',
  );
const NOT_TYPES = new Set(['return', 'else', 'throw', 'case', 'delete', 'new', 'goto', 'using', 'typedef', 'public', 'private']);

/** The type `name` was declared with: the latest local declaration before `at`, else a class member. */
export function declaredType(file: SourceFile, body: Block, at: number, name: string, members: Record<string, string>): string {
  let found: string | undefined;
  for (const m of file.masked.slice(body.open, at).matchAll(DECLARATION(name))) {
    if (!NOT_TYPES.has(m[1])) found = m[1];
  }
  const type = found ?? members[name];
  if (!type) throw new Error(`${cite(file, at)}: cannot find the declaration of ${name}`);
  return type.replace(/\s+/g, ' ');
}

/** Data members of a class or struct in the header: name -> type. */
export function classMembers(header: SourceFile, className: string): Record<string, string> {
  const m = new RegExp(`^\\s*(?:class|struct)\\s+${className}\\b[^;{]*\\{`, 'm').exec(header.masked);
  if (!m) throw new Error(`${header.path}: no class ${className}`);
  const open = m.index + m[0].length - 1;
  let depth = 0;
  let close = open;
  for (; close < header.masked.length; close++) {
    if (header.masked[close] === '{') depth++;
    else if (header.masked[close] === '}' && --depth === 0) break;
  }
  const members: Record<string, string> = {};
  const body = header.masked.slice(open + 1, close);
  for (const d of body.matchAll(/(?:^|[;{}]|\n)\s*((?:const\s+)?(?:[A-Za-z_]\w*::)*[A-Za-z_]\w*(?:<[^;(){}]*?>)?)\s+([A-Za-z_]\w*)\s*(?:\{[^{};]*\}|=[^;]*)?\s*;/g)) {
    if (!NOT_TYPES.has(d[1]) && !(d[2] in members)) members[d[2]] = d[1];
  }
  return members;
}

function typeOf(members: Record<string, string>, member: string, header: SourceFile): string {
  const type = members[member];
  if (!type) throw new Error(`${header.path}: AllOptions has no member ${member}`);
  return type;
}
