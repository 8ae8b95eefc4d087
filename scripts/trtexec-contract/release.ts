/**
 * One release branch's contract: how trtexec reads its command line and fails, every option it
 * accepts, the value grammar of the options Kiln writes, what the loading side honours
 * (version-compatible engines, refit from ONNX) and the --exportProfile layout. Every fact carries
 * the file and line it was read from.
 */
import { cite, enclosingCondition, findFreeFunction, findFunction, loadSource, matching, messageTemplate, throwsIn, type Block, type Message, type SourceFile } from './cpp-source';
import { builderFlags, choices, layerMatching, memPoolSize, nameTable, nameValueRule, shapeNameMatching, splitChar, takeOf } from './grammar';
import { readOptions, readTakes, type OptionFact, type Take } from './options';
import { CONDITIONS } from './overrides';

export const FILES = {
  options: 'samples/common/sampleOptions.cpp',
  header: 'samples/common/sampleOptions.h',
  engines: 'samples/common/sampleEngines.cpp',
  utils: 'samples/common/sampleUtils.cpp',
  reporting: 'samples/common/sampleReporting.cpp',
  logging: 'samples/common/logging.h',
  main: 'samples/trtexec/trtexec.cpp',
} as const;

/** Reads one file of the release (undefined when the release has no such file). */
export type Show = (path: string) => string | undefined;

export function readRelease(version: string, branch: string, commit: string, show: Show) {
  const read = (path: string): SourceFile => {
    const text = show(path);
    if (text === undefined) throw new Error(`${branch} has no ${path}`);
    return loadSource(path, text);
  };
  const src = { options: read(FILES.options), header: read(FILES.header) };
  const engines = read(FILES.engines);
  const main = read(FILES.main);
  const utilsText = show(FILES.utils);
  const utils = utilsText === undefined ? undefined : loadSource(FILES.utils, utilsText);

  const takes = readTakes(src);
  const options = readOptions(src, takes);
  resolveConditions(version, options);
  const flags = builderFlags(engines);
  for (const take of takes) {
    const flag = flags[take.dest];
    if (flag && options[take.name] && options[take.name].kind === 'flag') options[take.name].builderFlag = flag.flag;
  }

  return {
    branch,
    commit,
    commandLine: commandLine(src.options, main, read(FILES.logging)),
    options,
    grammar: grammar(src.options, engines, utils, takes),
    loading: loading(engines, main, takes, options),
    reporting: { exportProfile: exportProfile(read(FILES.reporting)) },
  };
}

export type Release = ReturnType<typeof readRelease>;

function resolveConditions(version: string, options: Record<string, OptionFact>): void {
  for (const [name, fact] of Object.entries(options)) {
    if (!fact.parsedOnlyIf) continue;
    const known = CONDITIONS[version]?.[name];
    if (!known) {
      throw new Error(`${fact.source}: ${name} is taken only if (${fact.parsedOnlyIf}); read the code and add the answer to CONDITIONS in overrides.ts`);
    }
    if (!known.holds) delete options[name];
    else fact.parsedOnlyIf = `${fact.parsedOnlyIf} (holds: ${known.source})`;
  }
}

// ---------------------------------------------------------------------------------------------

function commandLine(options: SourceFile, main: SourceFile, logging: SourceFile) {
  const split = findFunction(options, 'Arguments argsToArgumentsMap\\(');
  if (!split || !/strchr\(\s*argv\[i\]\s*,\s*'='\s*\)/.test(options.text.slice(split.open, split.close))) {
    throw new Error(`${options.path}: argsToArgumentsMap no longer splits at the first '='`);
  }
  const unknownAt = main.text.indexOf('"Unknown option: "');
  if (unknownAt < 0) throw new Error(`${main.path}: no "Unknown option: " message`);
  const unknown = logged(main, unknownAt);
  const whatAt = main.text.indexOf('arg.what()', unknownAt);
  const invalid = logged(main, whatAt);
  const parseAt = main.text.lastIndexOf('options.parse(args)', unknownAt);
  const failedIf = /if\s*\(\s*failed\s*\)\s*\{/g;
  failedIf.lastIndex = whatAt;
  const failed = failedIf.exec(main.masked);
  if (!failed) throw new Error(`${cite(main, whatAt)}: no if (failed) after the parse errors`);
  const failedBlock: Block = { open: failed.index + failed[0].length - 1, close: matching(main, failed.index + failed[0].length - 1) };
  const failedText = main.text.slice(failedBlock.open, failedBlock.close);
  const helpBefore = main.text.slice(parseAt, unknownAt).includes('AllOptions::help(');
  const reportFail = findFunction(logging, 'static int32_t reportFail\\(');
  const failedName = /case\s+TestResult::kFAILED\s*:\s*return\s*"(\w+)"/.exec(logging.text);
  if (!reportFail || !failedName || !/return\s+EXIT_FAILURE/.test(logging.text.slice(reportFail.open, reportFail.close))) {
    throw new Error(`${logging.path}: reportFail no longer returns EXIT_FAILURE after a FAILED line`);
  }
  const statusLine = /reportFail\s*\(/.test(failedText);
  if (!statusLine && !/return\s+EXIT_FAILURE/.test(failedText)) throw new Error(`${cite(main, failedBlock.open)}: a failed parse neither reports FAILED nor returns EXIT_FAILURE`);
  return {
    // argsToArgumentsMap: `--name=value` split at the first '=', `--name` alone has the value "".
    split: { at: 'first-equals' as const, source: cite(options, split.open) },
    unknownOption: unknown,
    invalidValue: invalid,
    /** Whether the help text is printed before the error lines (10.0+) or after them (8.6, 9.x). */
    help: { printed: helpBefore ? ('before-errors' as const) : ('after-errors' as const), source: cite(main, helpBefore ? parseAt : failedBlock.open) },
    failure: {
      /** `&&&& FAILED TensorRT.trtexec ... # argv` after a failed parse (11.1 returns without it). */
      statusLine: statusLine ? `&&&& ${failedName[1]}` : null,
      exitStatus: 1,
      source: cite(main, failedBlock.open),
      exitSource: cite(logging, reportFail.open),
    },
  };
}

/** The message of the `gLogError << ...;` statement holding `at`. */
function logged(file: SourceFile, at: number): Message {
  const start = file.text.lastIndexOf('gLogError', at);
  const end = file.masked.indexOf(';', at);
  return messageTemplate(file.text.slice(start + 'gLogError'.length, end).replace(/^\s*<</, ''), '<<', cite(file, start));
}

// ---------------------------------------------------------------------------------------------

function grammar(options: SourceFile, engines: SourceFile, utils: SourceFile | undefined, takes: Take[]) {
  const take = (name: string) => takeOf(takes, name);
  const must = (name: string) => {
    const t = take(name);
    if (!t) throw new Error(`${options.path}: ${name} is not taken`);
    return t;
  };
  const dataTypes = nameTable(options, 'stringToValue<nvinfer1::DataType>\\(');
  const formats = nameTable(options, 'stringToValue<nvinfer1::TensorFormats>\\(');
  if (!formats) throw new Error(`${options.path}: no stringToValue<nvinfer1::TensorFormats>`);
  const tactic = must('--tacticSources');
  const tacticBlock = blockAfter(options, tactic.index);
  const tactics = choices(options, tactic, /Unknown tactic source/);
  const tacticErrors = throwsInBlock(options, tacticBlock);
  const pools = must('--memPoolSize');
  const layerPrecisions = take('--layerPrecisions');
  const layerOutputTypes = take('--layerOutputTypes');
  const constraints = take('--precisionConstraints');
  const appliedWhen = /if\s*\(\s*!build\.layerPrecisions\.empty\(\)\s*&&\s*build\.precisionConstraints\s*!=\s*PrecisionConstraints::kNONE\s*\)/.exec(engines.text);
  const setLayer = findFreeFunction(engines, 'setLayerPrecisions');
  const setLayerLog = setLayer && /gLogInfo\s*<<\s*"Set layer "([^;]*);/.exec(engines.text.slice(setLayer.body.open, setLayer.body.close));
  const dims = findFunction(options, 'stringToValue<std::vector<int(?:32|64)_t>>\\(');
  if (!dims) throw new Error(`${options.path}: no shape parser`);
  return {
    ...(dataTypes ? { dataTypes: { names: dataTypes.names, error: dataTypes.error } } : {}),
    tensorFormats: { names: formats.names, separator: splitChar(options, formats.body, 'option'), error: formats.error },
    ioFormats: ioFormats(options, must('--inputIOFormats')),
    hardwareCompatibilityLevel: strip(choices(options, must('--hardwareCompatibilityLevel'), /Unknown hardwareCompatibilityLevel/)),
    tacticSources: {
      names: tactics.values,
      separator: splitChar(options, tacticBlock),
      errors: {
        unknown: tactics.error,
        prefix: tacticErrors.find((e) => /prefixed with \+ or -/.test(e.message)),
        conflict: tacticErrors.find((e) => /Cannot enable and disable/.test(e.message)),
      },
    },
    ...(constraints ? { precisionConstraints: strip(choices(options, constraints, /Unknown precision constraints/)) } : {}),
    profilingVerbosity: strip(choices(options, must('--profilingVerbosity'), /Unknown profilingVerbosity/)),
    memPoolSize: { separator: splitChar(options, { open: pools.index, close: options.text.length }), pair: nameValueRule(options), ...memPoolSize(options, pools) },
    ...(layerPrecisions
      ? {
          layerPrecisions: {
            separator: splitChar(options, layerPrecisions.via!, layerPrecisions.dest),
            pair: nameValueRule(options),
            matching: layerMatching(engines, utils, 'setLayerPrecisions', 'layerPrecisions'),
            ...(appliedWhen ? { appliedWhen: { precisionConstraints: 'not none', source: cite(engines, appliedWhen.index) } } : {}),
            ...(setLayerLog && setLayer ? { logs: messageTemplate(`"Set layer "${setLayerLog[1]}`, '<<', cite(engines, setLayer.body.open + setLayerLog.index)) } : {}),
          },
        }
      : {}),
    ...(layerOutputTypes ? { layerOutputTypes: { matching: layerMatching(engines, utils, 'setLayerOutputTypes', 'layerOutputTypes') } } : {}),
    shapes: {
      names: shapeNameMatching(engines),
      dims: { separator: splitChar(options, dims, 'option'), scalar: /option\s*==\s*"scalar"/.test(options.text.slice(dims.open, dims.close)) ? 'scalar' : null, source: cite(options, dims.open) },
    },
  };
}

function ioFormats(options: SourceFile, take: Take) {
  const fn = findFunction(options, 'IOFormat stringToValue<IOFormat>\\(');
  if (!fn) throw new Error(`${options.path}: no stringToValue<IOFormat>`);
  const body = options.text.slice(fn.open, fn.close);
  const typed = /stringToValue<nvinfer1::DataType>/.test(body) && /find\(\s*':'\s*\)/.test(body);
  if (!typed && !/stringToValue<nvinfer1::TensorFormats>/.test(body)) throw new Error(`${cite(options, fn.open)}: unknown I/O format grammar`);
  const [missingColon] = throwsInBlock(options, fn);
  return {
    /** `fp16:chw+hwc8` up to 10.x; from 11.0 the data type is gone: `chw+hwc8`. */
    form: typed ? ('type:formats' as const) : ('formats' as const),
    source: cite(options, fn.open),
    separator: splitChar(options, take.via!, take.dest),
    ...(missingColon ? { errors: { missingColon } } : {}),
  };
}

function blockAfter(file: SourceFile, index: number): Block {
  const open = file.masked.indexOf('{', index);
  return { open, close: matching(file, open) };
}

function throwsInBlock(file: SourceFile, block: Block): Message[] {
  return throwsIn(file, block.open, block.close).map(({ message, args, source }) => ({ message, args, source }));
}

function strip<T extends { end?: number }>(value: T): Omit<T, 'end'> {
  const { end: _end, ...rest } = value;
  return rest;
}

// ---------------------------------------------------------------------------------------------

function loading(engines: SourceFile, main: SourceFile, takes: Take[], options: Record<string, OptionFact>) {
  const optionsInto = (dest: string, group = 'build') => [...new Set(takes.filter((t) => t.dest === dest && t.group === group && options[t.name]).map((t) => t.name))];
  const allowed = /setEngineHostCodeAllowed\(\s*true\s*\)/.exec(engines.masked);
  if (!allowed || enclosingCondition(engines, allowed.index, 0)?.condition !== 'mVersionCompatible') {
    throw new Error(`${engines.path}: setEngineHostCodeAllowed(true) is no longer guarded by mVersionCompatible`);
  }
  const passed = /BuildEnvironment\(\s*options\.build\.safe\s*,\s*options\.build\.versionCompatible/.exec(main.masked);
  if (!passed) throw new Error(`${main.path}: the BuildEnvironment no longer gets options.build.versionCompatible`);
  const out: Record<string, unknown> = {
    versionCompatible: {
      // The loading side opts in to engines that carry the lean runtime with the same flag that builds them.
      options: optionsInto('versionCompatible'),
      hostCodeAllowed: cite(engines, allowed.index),
      passedFrom: cite(main, passed.index),
    },
  };
  const refit = takeOf(takes, '--refitFromOnnx');
  if (refit) {
    const call = /\brefitFromOnnx\s*\(\s*\*engine/.exec(main.masked);
    if (!call) throw new Error(`${main.path}: --refitFromOnnx is parsed but refitFromOnnx() is not called`);
    const requires: string[] = [];
    let gate = '';
    // Walk out through the `if`s around the call, collecting the build options they test.
    for (let c = enclosingCondition(main, call.index, 0); c?.keyword === 'if'; c = enclosingCondition(main, c.at, 0)) {
      for (const m of c.condition.matchAll(/options\.build\.(\w+)/g)) {
        requires.push(...optionsInto(m[1]));
        gate = cite(main, c.at);
      }
    }
    const failure = /gLogError\s*<<\s*"Engine refit from ONNX model failed\."/.exec(main.text);
    const fn = findFreeFunction(engines, 'refitFromOnnx');
    const info = fn ? [...engines.text.slice(fn.body.open, fn.body.close).matchAll(/gLogInfo\s*<<([^;]*);/g)] : [];
    out.refitFromOnnx = {
      option: '--refitFromOnnx',
      // trtexec refits only `if (supportDeserialization && options.build.refittable)`: the load needs --refit too.
      requires: [...new Set(requires)],
      source: cite(main, call.index),
      gate,
      ...(failure ? { failed: logged(main, failure.index) } : {}),
      logs: info.map((m) => messageTemplate(m[1], '<<', cite(engines, fn!.body.open + m.index!))),
    };
  }
  return out;
}

function exportProfile(reporting: SourceFile) {
  const fn = findFunction(reporting, 'void Profiler::exportJSONProfile\\(');
  if (!fn) throw new Error(`${reporting.path}: no Profiler::exportJSONProfile`);
  const body = reporting.text.slice(fn.open, fn.close);
  const loop = body.indexOf('for (');
  const keys = (text: string) => [...text.matchAll(/\\?"(\w+)\\?"\s*:/g)].map((m) => m[1]);
  return {
    // `[`, `  { "count" : N }`, then `, { "name" : "...", "timeMs" : ..., ... }` per layer, `]`.
    header: keys(body.slice(0, loop)),
    layer: keys(body.slice(loop)),
    source: cite(reporting, fn.open),
  };
}
