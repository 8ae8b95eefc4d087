'use strict';
/**
 * trtexec's command line as the played release parses it, driven by that release's entry in the
 * contract table (src/core/tensorrt/trtexec-releases.json, read from NVIDIA's sampleOptions.cpp):
 * argsToArgumentsMap splits `--name=value` at the first `=`; AllOptions::parse takes each option
 * it knows out of the map, in its own order (model, build, system, inference, reporting; within a
 * group by source line), converting values as the option's C++ type does and throwing the
 * release's own messages for bad values; whatever is left is an `Unknown option`. An option the
 * release accepts but the stand-in does not play (plugins, DLA, ...) is a NotPlayed failure, so the
 * stand-in never pretends.
 */
const { fill, splitToStringVec, splitNameAndValue, unquote, stoi, stof, toString, InvalidArgument } = require('./contract');

/** AllOptions::parse: model, build, system, inference (tuning from 11.1), reporting, then parseHelp. */
const GROUPS = ['model', 'build', 'system', 'inference', 'tuning', 'reporting', 'help'];

class NotPlayed extends Error {}

/** argsToArgumentsMap: [{ name, value, pos }] in command-line order. */
function toArguments(argv) {
  return argv.map((arg, pos) => {
    const eq = arg.indexOf('=');
    return eq >= 0 ? { name: arg.slice(0, eq), value: arg.slice(eq + 1), pos } : { name: arg, value: '', pos };
  });
}

/** A value read into the option's C++ type (the table's `type`). */
function convert(spec, value) {
  if (spec.type === 'bool') return true;
  if (spec.type === 'int32_t' || spec.type === 'int64_t') return stoi(value);
  if (spec.type === 'float') return stof(value);
  if (spec.type === 'double') return stof(value, 'stod');
  return value;
}

function parseShapeList(release, text, which) {
  const shapes = {};
  for (const item of splitToStringVec(text, ',')) {
    const [name, dims] = splitNameAndValue(release, item);
    const scalar = release.grammar.shapes.dims.scalar && dims === 'scalar';
    shapes[unquote(name)] = scalar ? [] : splitToStringVec(dims, 'x').map((d) => {
      try {
        return stoi(d);
      } catch (err) {
        // BuildOptions::parse wraps the stoi failure (10.0+; 9.x lets "stoi" through unwrapped).
        if (which && Number(release.version.split('.')[0]) >= 10) throw new InvalidArgument(`${err.message} conversion failure: failed to parse ${which}. Please double check your input string.`);
        throw err;
      }
    });
  }
  return shapes;
}

/** --memPoolSize=<pool>:<size>[,...] with the release's units (see memPoolSize in trtexec-contract.ts). */
function memPoolSize(release, text, o) {
  const g = release.grammar.memPoolSize;
  const suffixes = g.size.unitSuffixes;
  for (const spec of splitToStringVec(text, g.separator.char)) {
    let name;
    let size;
    try {
      let written;
      [name, written] = splitNameAndValue(release, spec);
      if (g.size.defaultUnitSuffix && /\d$/.test(written)) written += g.size.defaultUnitSuffix;
      size = stof(written, 'stod');
      if (Object.keys(suffixes).length > 0 && !/\d$/.test(written)) {
        const unit = written[written.length - 1].toUpperCase();
        if (!suffixes[unit]) {
          const valid = Object.keys(suffixes).sort().map((k) => `${k} (${suffixes[k].name})`).join(', ');
          throw new InvalidArgument(fill(g.errors.badUnitSuffix, written, unit, valid));
        }
        size *= suffixes[unit].bytes;
      }
    } catch (err) {
      if (err instanceof InvalidArgument && g.errors.conversion) throw new InvalidArgument(fill(g.errors.conversion, err.message));
      throw err;
    }
    if (size < 0) throw new InvalidArgument(fill(g.errors.negative, toString(size)));
    const pool = g.pools[name];
    if (!pool && name !== '') throw new InvalidArgument(fill(g.errors.unknownPool, name));
    const mib = pool && pool.means === 'bytes / MiB' ? size / 2 ** 20 : size;
    if (name === 'workspace') o.workspace = mib;
  }
}

function ioFormats(release, text) {
  const g = release.grammar;
  const formats = splitToStringVec(text, g.ioFormats.separator.char);
  for (const f of formats) {
    let layouts = f;
    if (g.ioFormats.form === 'type:formats') {
      const colon = f.indexOf(':');
      if (colon < 0) throw new InvalidArgument(fill(g.ioFormats.errors.missingColon, f));
      if (!g.dataTypes.names[f.slice(0, colon)]) throw new InvalidArgument(fill(g.dataTypes.error, f.slice(0, colon)));
      layouts = f.slice(colon + 1);
    }
    for (const layout of splitToStringVec(layouts, g.tensorFormats.separator.char)) {
      if (!g.tensorFormats.names[layout]) throw new InvalidArgument(fill(g.tensorFormats.error, layout));
    }
  }
  return formats;
}

/** A string option whose value must be one of the table's values (compared as trtexec compares). */
function choice(grammar, value, warnings) {
  const hit = Object.entries(grammar.values).find(([name, n]) => (n.caseInsensitive ? name.toLowerCase() === value.toLowerCase() : name === value));
  if (!hit) throw new InvalidArgument(fill(grammar.error, value));
  if (hit[1].deprecated) warnings.push(hit[1].deprecated.says);
  return hit[1].means;
}

function tacticSources(release, text) {
  const g = release.grammar.tacticSources;
  const state = {};
  for (const item of splitToStringVec(text, g.separator.char)) {
    if (item[0] !== '+' && item[0] !== '-') throw new InvalidArgument(fill(g.errors.prefix));
    const name = item.slice(1).toUpperCase();
    if (!g.names[name]) throw new InvalidArgument(fill(g.errors.unknown, name));
    const bit = g.names[name].means;
    if (state[bit] !== undefined && state[bit] !== item[0]) throw new InvalidArgument(fill(g.errors.conflict, name));
    state[bit] = item[0];
  }
}

function layerPrecisions(release, text) {
  const out = {};
  for (const item of splitToStringVec(text, release.grammar.layerPrecisions.separator.char)) {
    const [name, type] = splitNameAndValue(release, item);
    if (!release.grammar.dataTypes.names[type]) throw new InvalidArgument(fill(release.grammar.dataTypes.error, type));
    out[unquote(name)] = type;
  }
  return out;
}

/**
 * Handlers of the options the stand-in plays, by name; each reads its value into `o`. Options that
 * share one parser step (the shape options, the precision flags) share one handler.
 */
const PRECISION_FLAGS = ['--fp16', '--bf16', '--int8', '--fp8', '--best', '--stronglyTyped', '--noTF32'];
const INFERENCE_FLAGS = ['--useSpinWait', '--noSpinWait', '--includeDataTransfers', '--noDataTransfers', '--useCudaGraph', '--noCudaGraph', '--separateProfileRun', '--dumpOutput', '--dumpLayerInfo'];
const STRINGS = {
  '--onnx': 'onnx', '--saveEngine': 'saveEngine', '--loadEngine': 'loadEngine', '--timingCacheFile': 'timingCacheFile', '--calib': 'calib',
  '--exportLayerInfo': 'exportLayerInfo', '--exportOutput': 'exportOutput', '--exportProfile': 'exportProfile', '--refitFromOnnx': 'refitFromOnnx',
};
const NUMBERS = { '--builderOptimizationLevel': 'builderOptimizationLevel', '--maxAuxStreams': 'maxAuxStreams', '--device': 'device' };
const INFERENCE_NUMBERS = { '--iterations': 'iterations', '--duration': 'duration', '--warmUp': 'warmUp', '--useProfile': 'profile', '--avgRuns': 'avgRuns' };
const BUILD_FLAGS = {
  '--refit': 'refit', '--stripWeights': 'stripWeights', '--weightless': 'stripWeights', '--stripAllWeights': 'stripAllWeights', '--vc': 'versionCompatible',
  '--versionCompatible': 'versionCompatible', '--excludeLeanRuntime': 'excludeLeanRuntime', '--skipInference': 'skipInference', '--verbose': 'verbose',
};
const SHAPES = ['--profile', '--minShapes', '--optShapes', '--maxShapes'];

function handlerFor(name) {
  if (STRINGS[name]) return (ctx, a) => { ctx.o[STRINGS[name]] = a.value; };
  if (NUMBERS[name]) return (ctx, a, spec) => { ctx.o[NUMBERS[name]] = convert(spec, a.value); };
  if (INFERENCE_NUMBERS[name]) return (ctx, a, spec) => { ctx.o.inference[INFERENCE_NUMBERS[name]] = convert(spec, a.value); };
  if (BUILD_FLAGS[name]) return (ctx) => { ctx.o[BUILD_FLAGS[name]] = name; };
  if (PRECISION_FLAGS.includes(name)) return (ctx) => { ctx.o.precision.add(name.slice(2)); };
  if (INFERENCE_FLAGS.includes(name)) return (ctx) => { ctx.o.inference[name.slice(2)] = true; };
  const r = (ctx) => ctx.release;
  return {
    '--inputIOFormats': (ctx, a) => { ctx.o.inputIOFormats = ioFormats(r(ctx), a.value); },
    '--outputIOFormats': (ctx, a) => { ctx.o.outputIOFormats = ioFormats(r(ctx), a.value); },
    '--memPoolSize': (ctx, a) => memPoolSize(r(ctx), a.value, ctx.o),
    '--hardwareCompatibilityLevel': (ctx, a) => {
      // Empty means none (BuildOptions::parse: `hardwareCompatibleArgs == "none" || hardwareCompatibleArgs.empty()`).
      if (a.value !== '') ctx.o.hardwareCompatibilityLevel = { kNONE: 'none', kAMPERE_PLUS: 'ampere+', kSAME_COMPUTE_CAPABILITY: 'sameComputeCapability' }[choice(r(ctx).grammar.hardwareCompatibilityLevel, a.value, ctx.warnings)];
    },
    '--precisionConstraints': (ctx, a) => {
      if (a.value !== '') ctx.o.precisionConstraints = choice(r(ctx).grammar.precisionConstraints, a.value, ctx.warnings) === 'kNONE' ? 'none' : a.value;
    },
    '--profilingVerbosity': (ctx, a) => {
      if (a.value !== '') ctx.o.profilingVerbosity = { kLAYER_NAMES_ONLY: 'layer_names_only', kNONE: 'none', kDETAILED: 'detailed' }[choice(r(ctx).grammar.profilingVerbosity, a.value, ctx.warnings)];
    },
    '--tacticSources': (ctx, a) => tacticSources(r(ctx), a.value),
    '--layerPrecisions': (ctx, a) => { ctx.o.layerPrecisions = layerPrecisions(r(ctx), a.value); },
    '--shapes': (ctx, a) => { ctx.o.inference.shapes = parseShapeList(r(ctx), a.value); },
    '--loadInputs': (ctx, a) => {
      ctx.o.inference.inputs = {};
      for (const item of splitToStringVec(a.value, ',')) {
        const [input, file] = splitNameAndValue(r(ctx), item);
        ctx.o.inference.inputs[input] = file;
      }
    },
    '--percentile': (ctx, a) => {
      const list = splitToStringVec(a.value, ',');
      if (list.length > 0) ctx.o.inference.percentiles = list.map((p) => stof(p));
      for (const p of ctx.o.inference.percentiles) if (p < 0 || p > 100) throw new InvalidArgument(`Percentile ${toString(p)}is not in [0,100]`);
    },
  }[name];
}

function parse(argv, release) {
  const args = toArguments(argv);
  const o = { help: false, precision: new Set(), profiles: [], inference: { percentiles: [90, 95, 99] }, hardwareCompatibilityLevel: 'none', profilingVerbosity: 'layer_names_only', precisionConstraints: 'none', device: 0 };
  const ctx = { o, release, warnings: [] };
  if (args.some((a) => a.name === '--help' || a.name === '-h')) {
    o.help = true;
    return { options: o, unknown: [], notPlayed: [], warnings: [] };
  }
  const took = new Set();
  /** getAndDelOption: one occurrence (all for repeatable options), unless its alias was taken. */
  const take = (name) => {
    const spec = release.options[name];
    if (spec.parsedOnlyWithout && took.has(spec.parsedOnlyWithout)) return [];
    const found = args.filter((a) => a.name === name);
    const taken = spec.repeatable ? found : found.slice(0, 1);
    for (const a of taken) args.splice(args.indexOf(a), 1);
    if (taken.length > 0) took.add(name);
    return taken;
  };
  const notPlayed = [];
  const order = Object.entries(release.options).sort(([, a], [, b]) => GROUPS.indexOf(a.group) - GROUPS.indexOf(b.group) || Number(a.source.split(':').pop()) - Number(b.source.split(':').pop()));
  let shapesDone = false;
  for (const [name, spec] of order) {
    if (SHAPES.includes(name)) {
      if (!shapesDone) shapes(ctx, args, take);
      shapesDone = true;
      continue;
    }
    if (name === '--help' || name === '-h') continue;
    const handler = handlerFor(name);
    for (const a of take(name)) {
      if (!handler) notPlayed.push(name);
      else handler(ctx, a, spec);
      if (spec.deprecated && spec.deprecated.warning) ctx.warnings.push(spec.deprecated.warning.says);
    }
    crossChecks(name, o, ctx.warnings);
  }
  if (!o.loadEngine && !o.onnx) throw new InvalidArgument('Model missing or format not recognized');
  // --stripAllWeights: `refittable = true; stripWeights = true;` (BuildOptions::parse, 10.1+).
  if (o.stripAllWeights) {
    o.refit = o.refit || o.stripAllWeights;
    o.stripWeights = o.stripWeights || o.stripAllWeights;
  }
  return { options: o, unknown: args, notPlayed, warnings: ctx.warnings };
}

/** Checks (and warnings) BuildOptions::parse makes right after taking these options. */
function crossChecks(name, o, warnings) {
  if (name === '--layerPrecisions') {
    if (o.layerPrecisions && o.precisionConstraints === 'none') {
      warnings.push('--layerPrecision/--layerOutputTypes flags have no effect when --precisionConstraints flag is set to "none".');
    } else if (!o.layerPrecisions && o.precisionConstraints !== 'none') {
      warnings.push('When --precisionConstraints flag is set to "obey" or "prefer", please add --layerPrecision/--layerOutputTypes flags to set layer-wise precisions and output types.');
    }
  }
  if (name === '--saveEngine' && o.loadEngine && o.saveEngine) throw new InvalidArgument('Incompatible load and save engine options selected');
  if (name === '--stronglyTyped') {
    if (o.precision.has('best') && o.precision.has('stronglyTyped')) {
      throw new InvalidArgument('--best and --stronglyTyped cannot be both set. --best enables implicit precisions, while --stronglyTyped enforces explicit precisions.');
    }
    if (o.precision.has('int8') && o.precision.has('fp8')) throw new InvalidArgument("Invalid usage, fp8 and int8 aren't allowed to be enabled together.");
  }
}

/**
 * Optimization profiles (getOptimizationProfiles, 9.0+): each --profile=i takes the --minShapes,
 * --optShapes and --maxShapes right behind it. Without --profile one of each is taken; from 9.0 any
 * left over is an error, on 8.6 an unknown option.
 */
function shapes(ctx, args, take) {
  const { release, o } = ctx;
  const which = /^--(min|opt|max)Shapes$/;
  const label = 'minShapes/optShapes/maxShapes';
  if (release.options['--profile']) {
    for (const p of take('--profile')) {
      const profile = {};
      for (let pos = p.pos + 1; ; pos++) {
        const i = args.findIndex((a) => a.pos === pos && which.test(a.name) && !profile[a.name.slice(2, 5)]);
        if (i < 0) break;
        const [a] = args.splice(i, 1);
        profile[a.name.slice(2, 5)] = parseShapeList(release, a.value);
      }
      o.profiles[stoi(p.value)] = fillProfile(profile);
    }
  }
  if (o.profiles.length === 0) {
    const profile = {};
    for (const kind of ['min', 'opt', 'max']) for (const a of take(`--${kind}Shapes`)) profile[kind] = parseShapeList(release, a.value, label);
    if (Object.keys(profile).length > 0) o.profiles.push(fillProfile(profile));
  }
  if (release.options['--profile'] && args.some((a) => which.test(a.name))) {
    throw new InvalidArgument('Multiple --minShapes/--optShapes/--maxShapes without --profile are not allowed. ');
  }
}

/** processShapes: missing min/opt/max are broadcast from the others, with trtexec's warnings. */
function fillProfile(profile) {
  const warnings = [];
  const names = new Set([...Object.keys(profile.min || {}), ...Object.keys(profile.opt || {}), ...Object.keys(profile.max || {})]);
  const out = { min: {}, opt: {}, max: {}, warnings };
  for (const name of names) {
    const pick = (which, order) => {
      if (profile[which] && profile[which][name]) return profile[which][name];
      const source = order.find((x) => profile[x] && profile[x][name]);
      warnings.push(`${source}Shapes is being broadcasted to ${which}Shapes for tensor ${name}`);
      return profile[source][name];
    };
    out.min[name] = pick('min', ['opt', 'max']);
    out.opt[name] = pick('opt', ['max', 'min']);
    out.max[name] = pick('max', ['opt', 'min']);
  }
  return out;
}

module.exports = { parse, InvalidArgument, NotPlayed };
