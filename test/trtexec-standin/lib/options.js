'use strict';
/**
 * trtexec's command line as the played TensorRT version parses it (samples/common/sampleOptions.cpp
 * of that release): `--name=value` split on the first `=`, every known option taken out, anything
 * left over reported as `Unknown option: <name> <value>`. Bad values throw, as trtexec's
 * std::invalid_argument does, with trtexec's message.
 */
const { atLeast } = require('./device');

/** Options the stand-in knows: since (and until) which version, and whether it takes a value. */
const OPTIONS = {
  '--onnx': {}, '--saveEngine': {}, '--loadEngine': {}, '--timingCacheFile': {}, '--skipInference': { flag: true },
  '--exportLayerInfo': {}, '--profilingVerbosity': {}, '--minShapes': {}, '--optShapes': {}, '--maxShapes': {},
  '--profile': { since: '9.0' }, '--shapes': {}, '--noTF32': { flag: true },
  '--fp16': { flag: true, until: '11.0' }, '--int8': { flag: true, until: '11.0' }, '--fp8': { flag: true, until: '11.0' },
  '--best': { flag: true, until: '11.0' }, '--bf16': { flag: true, since: '9.0', until: '11.0' },
  '--stronglyTyped': { flag: true, since: '9.0' }, '--memPoolSize': {}, '--builderOptimizationLevel': {},
  '--hardwareCompatibilityLevel': {}, '--versionCompatible': { flag: true }, '--vc': { flag: true },
  '--excludeLeanRuntime': { flag: true }, '--layerPrecisions': { until: '11.0' }, '--precisionConstraints': { until: '11.0' },
  '--inputIOFormats': {}, '--outputIOFormats': {}, '--tacticSources': {}, '--maxAuxStreams': {},
  '--stripWeights': { flag: true, since: '10.0' }, '--refit': { flag: true }, '--calib': { until: '11.0' },
  '--verbose': { flag: true }, '--loadInputs': {}, '--exportOutput': {}, '--iterations': {}, '--duration': {},
  '--warmUp': {}, '--percentile': {}, '--useSpinWait': { flag: true }, '--includeDataTransfers': { flag: true, since: '11.0' },
  '--useProfile': { since: '9.0' }, '--avgRuns': {}, '--noDataTransfers': { flag: true }, '--useCudaGraph': { flag: true },
  '--separateProfileRun': { flag: true }, '--dumpOutput': { flag: true }, '--dumpLayerInfo': { flag: true },
  '--device': {},
};

/** Real trtexec options that load code or touch files the stand-in does not play. */
const NOT_PLAYED = ['--plugins', '--staticPlugins', '--dynamicPlugins', '--setPluginsToSerialize', '--exportTimes', '--exportProfile', '--leanDLLPath', '--tempdir', '--saveDebugTensors'];

const DATA_TYPES_86 = ['fp32', 'fp16', 'int8', 'fp8', 'int32'];
const DATA_TYPES_90 = [...DATA_TYPES_86, 'bf16', 'int64', 'bool', 'uint8'];
const FORMATS = ['chw', 'chw2', 'chw4', 'hwc8', 'chw16', 'chw32', 'dhwc8', 'cdhw32', 'hwc', 'dhwc', 'dla_linear', 'dla_hwc4'];

class InvalidArgument extends Error {}

/** argsToArgumentsMap: [{ name, value, pos }] in command-line order. */
function toArguments(argv) {
  return argv.map((arg, pos) => {
    const eq = arg.indexOf('=');
    return eq >= 0 ? { name: arg.slice(0, eq), value: arg.slice(eq + 1), pos } : { name: arg, value: '', pos };
  });
}

/** splitNameAndValue: `'a:b':v` or `name:v` split on the last `:`. */
function splitNameAndValue(text) {
  const quoted = text.split("'");
  if (quoted.length !== 1) {
    if (quoted.length !== 3) throw new InvalidArgument(`Found invalid number of 's when parsing ${text}. Expected: 2, received: ${quoted.length - 1}`);
    return [quoted[0] + quoted[1], quoted[2].slice(1)];
  }
  const i = text.lastIndexOf(':');
  if (i < 0) return [text, ''];
  return [text.slice(0, i), text.slice(i + 1)];
}

function parseShapeList(text) {
  const shapes = {};
  for (const item of text.split(',').filter(Boolean)) {
    const [name, dims] = splitNameAndValue(item);
    const values = dims === 'scalar' ? [] : dims.split('x').map((d) => {
      if (!/^-?\d+$/.test(d)) throw new InvalidArgument(`stoi conversion failure: failed to parse minShapes/optShapes/maxShapes. Please double check your input string.`);
      return Number(d);
    });
    shapes[name] = values;
  }
  return shapes;
}

function parse(argv, trt) {
  const args = toArguments(argv);
  const take = (name) => {
    const i = args.findIndex((a) => a.name === name);
    if (i < 0) return undefined;
    return args.splice(i, 1)[0];
  };
  const o = { help: false, precision: new Set(), profiles: [], inference: {} };
  if (take('--help') || take('-h')) {
    o.help = true;
    return { options: o, unknown: [] };
  }
  for (const name of NOT_PLAYED) {
    if (args.some((a) => a.name === name)) throw new InvalidArgument(`${name} is not played by the Kiln trtexec stand-in`);
  }
  const known = (name) => {
    const spec = OPTIONS[name];
    return spec && (!spec.since || atLeast(trt, spec.since)) && (!spec.until || !atLeast(trt, spec.until));
  };
  const get = (name) => (known(name) ? take(name) : undefined);

  // Optimization profiles: --profile=i immediately followed by its min/opt/max shapes (9.0+).
  let p;
  while ((p = get('--profile'))) {
    const profile = {};
    for (let pos = p.pos + 1; ; pos++) {
      const i = args.findIndex((a) => a.pos === pos && /^--(min|opt|max)Shapes$/.test(a.name));
      if (i < 0) break;
      const [a] = args.splice(i, 1);
      profile[a.name.slice(2, 5)] = parseShapeList(a.value);
    }
    o.profiles[Number(p.value)] = fillProfile(profile);
  }
  if (o.profiles.length === 0) {
    const profile = {};
    for (const which of ['min', 'opt', 'max']) {
      const a = get(`--${which}Shapes`);
      if (a) profile[which] = parseShapeList(a.value);
    }
    if (Object.keys(profile).length > 0) o.profiles.push(fillProfile(profile));
    if (atLeast(trt, '9.0') && args.some((a) => /^--(min|opt|max)Shapes$/.test(a.name))) {
      throw new InvalidArgument('Multiple --minShapes/--optShapes/--maxShapes without --profile are not allowed. ');
    }
  }

  for (const [name, key] of [['--onnx', 'onnx'], ['--saveEngine', 'saveEngine'], ['--loadEngine', 'loadEngine'], ['--timingCacheFile', 'timingCacheFile'], ['--exportLayerInfo', 'exportLayerInfo'], ['--calib', 'calib'], ['--exportOutput', 'exportOutput']]) {
    const a = get(name);
    if (a) o[key] = a.value;
  }
  if (o.loadEngine && o.saveEngine) throw new InvalidArgument('Incompatible load and save engine options selected');

  for (const flag of ['--fp16', '--bf16', '--int8', '--fp8', '--best', '--stronglyTyped', '--noTF32']) {
    if (get(flag)) o.precision.add(flag.slice(2));
  }
  if (o.precision.has('best') && o.precision.has('stronglyTyped')) {
    throw new InvalidArgument('--best and --stronglyTyped cannot be both set. --best enables implicit precisions, while --stronglyTyped enforces explicit precisions.');
  }
  if (o.precision.has('int8') && o.precision.has('fp8')) throw new InvalidArgument("Invalid usage, fp8 and int8 aren't allowed to be enabled together.");

  const pool = get('--memPoolSize');
  if (pool) {
    for (const spec of pool.value.split(',')) {
      const [poolName, size] = splitNameAndValue(spec);
      if (!['workspace', 'dlaSRAM', 'dlaLocalDRAM', 'dlaGlobalDRAM', 'tacticSharedMem'].includes(poolName)) throw new InvalidArgument(`Unknown memory pool: ${poolName}`);
      const n = parseFloat(size);
      if (Number.isNaN(n)) throw new InvalidArgument('stod conversion failure: failed to parse --memPoolSize. Please double check your input string.');
      if (n < 0) throw new InvalidArgument(`Negative memory pool size: ${n}`);
      if (poolName === 'workspace') o.workspace = size;
    }
  }
  const level = get('--builderOptimizationLevel');
  if (level) o.builderOptimizationLevel = toInt(level.value);

  const hw = get('--hardwareCompatibilityLevel');
  o.hardwareCompatibilityLevel = 'none';
  if (hw && hw.value !== 'none' && hw.value !== '') {
    const v = hw.value.toLowerCase();
    const sameCc = atLeast(trt, '10.9');
    if (v === 'ampere+') o.hardwareCompatibilityLevel = 'ampere+';
    else if (v === 'samecomputecapability' && sameCc) o.hardwareCompatibilityLevel = 'sameComputeCapability';
    else throw new InvalidArgument(`Unknown hardwareCompatibilityLevel: ${hw.value}. Valid options: none, ampere+${sameCc ? ', sameComputeCapability' : ''}.`);
  }
  if (get('--vc') || get('--versionCompatible')) o.versionCompatible = true;
  if (get('--excludeLeanRuntime')) o.excludeLeanRuntime = true;

  const constraints = get('--precisionConstraints');
  if (constraints && !['none', 'prefer', 'obey'].includes(constraints.value)) throw new InvalidArgument(`Unknown precision constraints: ${constraints.value}`);
  const dataTypes = atLeast(trt, '10.1') ? [...DATA_TYPES_90, 'int4'] : atLeast(trt, '9.0') ? DATA_TYPES_90 : DATA_TYPES_86;
  const layers = get('--layerPrecisions');
  if (layers) {
    o.layerPrecisions = {};
    for (const item of layers.value.split(',')) {
      const [layer, type] = splitNameAndValue(item);
      if (!dataTypes.includes(type)) throw new InvalidArgument(`Invalid DataType ${type}`);
      o.layerPrecisions[layer] = type;
    }
  }
  const formats = atLeast(trt, '10.10') ? [...FORMATS, 'hwc16'] : FORMATS;
  for (const key of ['--inputIOFormats', '--outputIOFormats']) {
    const a = get(key);
    if (!a) continue;
    for (const f of a.value.split(',')) {
      const colon = f.indexOf(':');
      if (colon < 0) throw new InvalidArgument(`Invalid IOFormat ${f}`);
      if (!dataTypes.includes(f.slice(0, colon))) throw new InvalidArgument(`Invalid DataType ${f.slice(0, colon)}`);
      for (const layout of f.slice(colon + 1).split('+')) if (!formats.includes(layout)) throw new InvalidArgument(`Invalid TensorFormat ${layout}`);
    }
    o[key.slice(2)] = a.value.split(',');
  }
  const tactics = get('--tacticSources');
  if (tactics) {
    const sources = atLeast(trt, '11.0') ? ['EDGE_MASK_CONVOLUTIONS', 'JIT_CONVOLUTIONS'] : ['CUBLAS', 'CUBLASLT', 'CUBLAS_LT', 'CUDNN', 'EDGE_MASK_CONVOLUTIONS', 'JIT_CONVOLUTIONS'];
    for (const t of tactics.value.split(',')) {
      if (t[0] !== '+' && t[0] !== '-') throw new InvalidArgument('Tactic source must be prefixed with + or -, indicating whether it should be enabled or disabled respectively.');
      if (!sources.includes(t.slice(1).toUpperCase())) throw new InvalidArgument(`Unknown tactic source: ${t.slice(1).toUpperCase()}`);
    }
  }
  const aux = get('--maxAuxStreams');
  if (aux) o.maxAuxStreams = toInt(aux.value);
  if (get('--stripWeights')) o.stripWeights = true;
  if (get('--refit')) o.refit = true;
  const verbosity = get('--profilingVerbosity');
  o.profilingVerbosity = 'layer_names_only';
  if (verbosity) {
    const map = { layer_names_only: 'layer_names_only', none: 'none', detailed: 'detailed', default: 'layer_names_only', verbose: 'detailed' };
    if (!map[verbosity.value]) throw new InvalidArgument(`Unknown profilingVerbosity: ${verbosity.value}`);
    o.profilingVerbosity = map[verbosity.value];
  }
  if (get('--skipInference')) o.skipInference = true;
  const device = get('--device');
  o.device = device ? toInt(device.value) : 0;
  if (get('--verbose')) o.verbose = true;

  const inf = o.inference;
  const shapes = get('--shapes');
  if (shapes) inf.shapes = parseShapeList(shapes.value);
  const inputs = get('--loadInputs');
  if (inputs) {
    inf.inputs = {};
    for (const item of inputs.value.split(',')) {
      const [name, file] = splitNameAndValue(item);
      inf.inputs[name] = file;
    }
  }
  for (const [name, key] of [['--iterations', 'iterations'], ['--duration', 'duration'], ['--warmUp', 'warmUp'], ['--useProfile', 'profile'], ['--avgRuns', 'avgRuns']]) {
    const a = get(name);
    if (a) inf[key] = toInt(a.value);
  }
  const percentile = get('--percentile');
  inf.percentiles = [90, 95, 99];
  if (percentile) {
    inf.percentiles = percentile.value.split(',').map(Number);
    for (const pct of inf.percentiles) if (!(pct >= 0 && pct <= 100)) throw new InvalidArgument(`Percentile ${pct}is not in [0,100]`);
  }
  for (const flag of ['--useSpinWait', '--includeDataTransfers', '--noDataTransfers', '--useCudaGraph', '--separateProfileRun', '--dumpOutput', '--dumpLayerInfo']) {
    if (get(flag)) inf[flag.slice(2)] = true;
  }
  if (!o.loadEngine && !o.onnx) throw new InvalidArgument('Model missing or format not recognized');
  return { options: o, unknown: args };
}

/** processShapes: missing min/opt/max are broadcast from the others, with trtexec's warnings. */
function fillProfile(profile) {
  const warnings = [];
  const names = new Set([...Object.keys(profile.min || {}), ...Object.keys(profile.opt || {}), ...Object.keys(profile.max || {})]);
  const out = { min: {}, opt: {}, max: {}, warnings };
  for (const name of names) {
    const pick = (which, order) => {
      if (profile[which] && profile[which][name]) return profile[which][name];
      const source = order.find((o) => profile[o] && profile[o][name]);
      warnings.push(`${source}Shapes is being broadcasted to ${which}Shapes for tensor ${name}`);
      return profile[source][name];
    };
    out.min[name] = pick('min', ['opt', 'max']);
    out.opt[name] = pick('opt', ['max', 'min']);
    out.max[name] = pick('max', ['opt', 'min']);
  }
  return out;
}

function toInt(text) {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgument(`stoi: no conversion for "${text}"`);
  return Number(text);
}

module.exports = { parse, InvalidArgument };
