'use strict';
/**
 * The build phase: parse the ONNX, check the profiles, time the layers the timing cache has not
 * seen (a short sleep per miss), grow and save the cache, write the plan and the layer info, with
 * the log lines of the played TensorRT version (8.6: sampleEngines.cpp and trtexec.cpp of
 * release/8.6 plus real 8.6 logs; 10.x: the reference 10.9.0 log; 10.13+: timing cache lines of
 * the library).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { atLeast } = require('./device');
const { readOnnx, weightBytes } = require('./onnx');
const { cppFloat } = require('./numbers');
const { writePlan } = require('./plan');
const { loadCache, saveCache, layerKeys, tacticFor } = require('./timing-cache');

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** trtexec's closing lines when getEngineBuildEnv fails. */
function setupFailed(log) {
  log.error('Failed to create engine from model or file.');
  log.error('Engine set up failed');
  return null;
}

function buildFailed(log) {
  log.error('Engine could not be created from network');
  log.error('Building engine failed');
  return setupFailed(log);
}

function parseFailed(log, seconds) {
  log.error('Failed to parse onnx file');
  log.info(`Finished parsing network model. Parse time: ${cppFloat(seconds)}`);
  log.error('Parsing model failed');
  return setupFailed(log);
}

function parseModel(log, o, setup) {
  const { trt, misbehave } = setup;
  log.trt('I', '[MemUsageChange] Init builder kernel library: CPU +1217, GPU +271, now: CPU 1310, GPU 1309 (MiB)');
  log.info('Start parsing network model.');
  let model;
  try {
    model = readOnnx(o.onnx);
  } catch (err) {
    if (!fs.existsSync(o.onnx)) log.error(`Could not open file ${o.onnx}`);
    log.trt('E', `ModelImporter.cpp:${atLeast(trt, '10.0') ? 907 : 768}: Failed to parse ONNX model from file: ${o.onnx}${atLeast(trt, '10.0') ? '!' : ''}`);
    parseFailed(log, 0.000118);
    return null;
  }
  log.trt('I', '----------------------------------------------------------------');
  log.trt('I', `Input filename:   ${o.onnx}`);
  log.trt('I', `ONNX IR version:  0.0.${model.irVersion}`);
  log.trt('I', `Opset version:    ${model.opset}`);
  log.trt('I', `Producer name:    ${model.producerName}`);
  log.trt('I', `Producer version: ${model.producerVersion}`);
  log.trt('I', 'Domain:           ');
  log.trt('I', 'Model version:    0');
  log.trt('I', 'Doc string:       ');
  log.trt('I', '----------------------------------------------------------------');
  if (!atLeast(trt, '9.0') && model.graph.initializers.some((t) => t.type === 'int64')) {
    log.trt('W', 'onnx2trt_utils.cpp:374: Your ONNX model has been generated with INT64 weights, while TensorRT does not natively support INT64. Attempting to cast down to INT32.');
  }
  if (misbehave['parse-error']) {
    const node = model.graph.nodes[0];
    log.trt('E', `ModelImporter.cpp:771: While parsing node number 0 [${node.opType} -> "${node.outputs[0]}"]:`);
    log.trt('E', 'ModelImporter.cpp:772: --- Begin node ---');
    log.raw(`${node.inputs.map((i) => `input: "${i}"`).join('\n')}\nop_type: "${node.opType}"`);
    log.trt('E', 'ModelImporter.cpp:773: --- End node ---');
    log.trt('E', 'ModelImporter.cpp:777: ERROR: builtin_op_importers.cpp:1197 In function importStandIn:');
    log.raw(`[6] Assertion failed: the Kiln stand-in was told to fail parsing (KILN_STANDIN_MISBEHAVE=parse-error)`);
    parseFailed(log, 0.0124);
    return null;
  }
  log.info(`Finished parsing network model. Parse time: ${cppFloat(0.0197354)}`);
  return model;
}

/** The profiles to build: the given ones, or the model's shapes with dynamic dims set to 1 (trtexec's fallback). */
function resolveProfiles(log, o, model, trt) {
  const dynamic = model.graph.inputs.filter((i) => i.dims.some((d) => typeof d !== 'number' || d < 0));
  if (o.profiles.length === 0) {
    if (dynamic.length === 0) return { profiles: [] };
    const profile = { min: {}, opt: {}, max: {} };
    for (const input of dynamic) {
      const dims = input.dims.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      log.warn(`Dynamic dimensions required for input: ${input.name}, but no shapes were provided. Automatically overriding shape to: ${dims.join('x')}`);
      for (const which of ['min', 'opt', 'max']) profile[which][input.name] = dims;
    }
    return { profiles: [profile] };
  }
  for (const [index, profile] of o.profiles.entries()) {
    for (const input of model.graph.inputs) {
      const dims = profile.opt[input.name];
      if (!dims) {
        if (dynamic.includes(input)) return { error: `4: [network.cpp::validate::3162] Error Code 4: Internal Error (${input.name}: dynamic input is missing dimensions in profile ${index}.)` };
        continue;
      }
      for (const which of ['min', 'opt', 'max']) {
        const d = profile[which][input.name];
        if (d.length !== input.dims.length) return { error: `4: [network.cpp::validate::3162] Error Code 4: Internal Error (${input.name}: number of dimensions is ${input.dims.length} but profile ${index} has ${d.length} for ${which}.)` };
        for (let i = 0; i < d.length; i++) {
          const fixed = input.dims[i];
          if (typeof fixed === 'number' && fixed > 0 && fixed !== d[i]) {
            return { error: `4: [network.cpp::validate::3162] Error Code 4: Internal Error (${input.name}: for dimension number ${i} in profile ${index} does not match network definition (got ${which}=${d[i]}, network dim=${fixed}).)` };
          }
        }
      }
    }
    for (const name of Object.keys(profile.opt)) {
      if (!model.graph.inputs.some((i) => i.name === name)) return { warn: `Cannot find input tensor with name "${name}" in the network inputs! Please make sure the input tensor names are correct.`, profiles: o.profiles };
    }
  }
  if (atLeast(trt, '9.0')) {
    o.profiles.forEach((p, i) => {
      for (const name of Object.keys(p.opt)) {
        log.info(`Set shape of input tensor ${name} for optimization profile ${i} to: MIN=${p.min[name].join('x')} OPT=${p.opt[name].join('x')} MAX=${p.max[name].join('x')}`);
      }
    });
  }
  return { profiles: o.profiles };
}

function loadTimingCache(log, file, trt) {
  const cache = loadCache(file);
  const lib = atLeast(trt, '10.0');
  const say = (severity, message) => (lib ? log.trt(severity, message) : log.line(severity, message));
  if (cache.missing) {
    if (atLeast(trt, '10.13')) say('W', `Could not read cache from: ${file}. A new cache will be generated and written.`);
    else say('W', `Could not read timing cache from: ${file}. A new timing cache will be generated and written.`);
  } else if (!cache.corrupt) {
    say('I', atLeast(trt, '10.13') ? `Loaded ${cache.bytes} bytes of cache from file: ${file}` : `Loaded ${cache.bytes} bytes of timing cache from ${file}`);
  }
  return cache;
}

function saveTimingCache(log, file, entries, trt) {
  const bytes = saveCache(file, entries);
  if (atLeast(trt, '10.13')) log.trt('I', `Serialized ${Object.keys(entries).length} timing cache entries`);
  if (atLeast(trt, '10.0')) log.trt('I', `Saved ${bytes} bytes of timing cache to ${file}`);
  else log.info(`Saved ${bytes} bytes of timing cache to ${file}`);
}

function layerInfo(model, precision, verbosity, cc) {
  const io = new Map([...model.graph.inputs, ...model.graph.outputs].map((t) => [t.name, t]));
  const type = precision.has('fp16') || precision.has('best') ? 'Half' : 'Float';
  const tensor = (name) => {
    const t = { Name: name, Location: 'Device' };
    if (io.has(name)) t.Dimensions = io.get(name).dims.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
    t['Format/Datatype'] = io.has(name) && io.get(name).type !== 'float' ? 'Int32' : type;
    return t;
  };
  const layers = model.graph.nodes.map((node, i) => {
    const name = node.name || `${node.opType}_${i}`;
    if (verbosity !== 'detailed') return name;
    return {
      Name: name,
      LayerType: LAYER_TYPES[node.opType] || 'PointWiseV2',
      Inputs: node.inputs.filter((n) => n && !model.graph.initializers.some((t) => t.name === n)).map(tensor),
      Outputs: node.outputs.map(tensor),
      TacticName: `standin_sm${cc.replace('.', '')}_${node.opType.toLowerCase()}`,
      TacticValue: tacticFor(`${name}/${cc}`),
      StreamId: 0,
      Metadata: `[ONNX Layer: ${name}]`,
    };
  });
  return { Layers: layers, Bindings: [...model.graph.inputs, ...model.graph.outputs].map((t) => t.name) };
}

const LAYER_TYPES = {
  Conv: 'CaskConvolution', Gemm: 'CaskGemmMatrixMultiply', MatMul: 'CaskGemmMatrixMultiply', BatchNormalization: 'Scale',
  GlobalAveragePool: 'CaskPooling', MaxPool: 'CaskPooling', AveragePool: 'CaskPooling', Add: 'ElementWise', Mul: 'ElementWise',
  Gather: 'Gather', Flatten: 'NoOp', Reshape: 'NoOp', Softmax: 'Softmax',
};

/**
 * --calib with --int8 (or --best): trtexec's RndInt8Calibrator (an EntropyCalibration2 calibrator)
 * hands the file to TensorRT, which prints these lines when it calibrates from the cache. Without a
 * readable file real TensorRT calibrates on random inputs; the stand-in does not play that.
 */
function readCalibration(log, file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return;
  }
  if (text === '') return;
  log.trt('I', `Reading Calibration Cache for calibrator: EntropyCalibration2`);
  log.trt('I', 'Generated calibration scales using calibration cache. Make sure that calibration cache has latest scales.');
  log.trt('I', 'To regenerate calibration cache, please delete the existing one. TensorRT will generate a new calibration cache.');
}

/**
 * Whether the plan can be refitted: built with --refit, or stripped with kSTRIP_PLAN, which
 * "enabled [kREFIT_IDENTICAL] by default" (sampleEngines.cpp, 10.0+). 9.2's kWEIGHTLESS does not.
 */
function refittable(o, contract) {
  const strip = o.stripWeights && contract.options[o.stripWeights];
  return Boolean(o.refit) || Boolean(strip && strip.builderFlag === 'kSTRIP_PLAN');
}

/**
 * --layerPrecisions as setLayerPrecisions applies them (only when --precisionConstraints is not
 * none): from 9.0 each layer takes an exact name first, else a name with one wildcard, and the
 * release logs `Set layer X to precision Y`; 8.6 matches exact names and `*` silently.
 */
function applyLayerPrecisions(log, o, model, contract) {
  const g = contract.grammar.layerPrecisions;
  if (!o.layerPrecisions || o.precisionConstraints === 'none' || !g || !g.logs) return;
  const patterns = Object.entries(o.layerPrecisions);
  model.graph.nodes.forEach((node, i) => {
    const name = node.name || `${node.opType}_${i}`;
    const hit = patterns.find(([p]) => p === name) || patterns.find(([p]) => oneWildcard(p, name));
    if (hit) log.info(g.logs.message.replace('{}', name).replace('{}', hit[1]));
  });
}

/** matchStringWithOneWildcard (sampleUtils.cpp): the first '*' splits the pattern into prefix and suffix. */
function oneWildcard(pattern, name) {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === name;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return name.length >= prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix);
}

/** Builds the engine; returns what inference needs, or null after printing trtexec's failure lines. */
async function build(log, o, setup) {
  const { trt, device, misbehave } = setup;
  const started = Date.now();
  const model = parseModel(log, o, setup);
  if (!model) return null;
  const resolved = resolveProfiles(log, o, model, trt);
  if (resolved.warn) log.warn(resolved.warn);
  if (resolved.error) {
    log.trt('E', resolved.error);
    return buildFailed(log);
  }
  const profiles = resolved.profiles;
  applyLayerPrecisions(log, o, model, setup.contract);

  if (o.hardwareCompatibilityLevel === 'ampere+' && Number(device.cc) < 8) {
    log.trt('E', '9: [builderConfig.cpp::setHardwareCompatibilityLevel::1118] Error Code 9: API Usage Error (Hardware compatibility level ampere+ is only supported on NVIDIA Ampere and later GPUs.)');
    return buildFailed(log);
  }

  let cache = { entries: {} };
  if (o.timingCacheFile) {
    cache = loadTimingCache(log, o.timingCacheFile, trt);
    if (cache.corrupt) {
      log.error('TimingCache creation failed');
      return setupFailed(log);
    }
  }
  log.trt('I', `${o.timingCacheFile ? 'Global' : 'Local'} timing cache in use. Profiling results in this builder pass will ${o.timingCacheFile ? '' : 'not '}be stored.`);
  if (atLeast(trt, '10.0')) log.trt('I', 'Compiler backend is used during engine build.');
  if (o.calib && (o.precision.has('int8') || o.precision.has('best'))) readCalibration(log, o.calib);

  const keys = layerKeys(model, profiles[0], o.precision, device.cc, trt);
  const misses = keys.filter((k) => !cache.entries[k]);
  await sleep(misses.length * setup.msPerTactic);
  if (misbehave.sleep) await sleep(Number(misbehave.sleep));
  if (misbehave.oom) {
    log.trt('W', `Requested amount of GPU memory (${device.memoryMiB * MiB} bytes) could not be allocated. There may not be enough free memory for allocation to succeed.`);
    log.trt('E', '1: [defaultAllocator.cpp::allocate::31] Error Code 1: Cuda Runtime (out of memory)');
    log.trt('E', '2: [virtualMemoryBuffer.cpp::resizePhysical::140] Error Code 2: OutOfMemory (no further information)');
    return buildFailed(log);
  }
  if (misbehave['fail-build']) {
    const node = model.graph.nodes[model.graph.nodes.length - 1];
    log.trt('E', `10: Could not find any implementation for node ${node.name || node.opType}.`);
    log.trt('E', `10: [optimizer.cpp::computeCosts::4040] Error Code 10: Internal Error (Could not find any implementation for node ${node.name || node.opType}.)`);
    return buildFailed(log);
  }
  for (const key of misses) cache.entries[key] = tacticFor(key);

  const weights = weightBytes(model);
  const half = o.precision.has('fp16') || o.precision.has('bf16') || o.precision.has('best');
  const engineBytes = o.stripWeights ? 4096 : Math.round(weights * (half ? 0.5 : 1)) + 2048 * model.graph.nodes.length;
  const activationBytes = 1024 * 1024 + weights;
  const seconds = (Date.now() - started) / 1000 + 0.01;
  log.trt('I', `Detected ${model.graph.inputs.length} inputs and ${model.graph.outputs.length} output network tensors.`);
  const unit = atLeast(trt, '10.0') ? ' bytes' : '';
  log.trt('I', `Total Host Persistent Memory: ${2048 * model.graph.nodes.length}${unit}`);
  log.trt('I', `Total Device Persistent Memory: 0${unit}`);
  log.trt('I', `Total Activation Memory: ${activationBytes}${unit}`);
  if (atLeast(trt, '10.0')) {
    log.trt('I', `Total Weights Memory: ${weights}${unit}`);
    log.trt('I', `Engine generation completed in ${cppFloat(seconds)} seconds.`);
  }
  log.trt('I', `[MemUsageStats] Peak memory usage of TRT CPU/GPU memory allocators: CPU 1 MiB, GPU ${Math.max(1, Math.round(activationBytes / MiB))} MiB`);

  const meta = {
    standin: 'kiln-trtexec-standin',
    onnx: path.resolve(o.onnx),
    onnxSha256: crypto.createHash('sha256').update(fs.readFileSync(o.onnx)).digest('hex'),
    trt: trt.text,
    cc: device.cc,
    device: device.name,
    precision: [...o.precision].sort(),
    hardwareCompatibilityLevel: o.hardwareCompatibilityLevel,
    versionCompatible: Boolean(o.versionCompatible),
    // Without --excludeLeanRuntime a version-compatible plan carries the lean runtime (host code).
    excludeLeanRuntime: Boolean(o.excludeLeanRuntime),
    // A weightless plan (--weightless on 9.2/9.3, --stripWeights from 10.0): its weights are not in it.
    stripWeights: Boolean(o.stripWeights),
    strippedBy: o.stripWeights || null,
    refittable: refittable(o, setup.contract),
    profiles: profiles.map((p) => ({ min: p.min, opt: p.opt, max: p.max })),
    inputs: model.graph.inputs,
    outputs: model.graph.outputs,
    activationBytes,
    weightBytes: weights,
  };
  let planBad = false;
  if (o.saveEngine) {
    let version;
    if (typeof misbehave['plan-version'] === 'string') {
      const [major, minor, patch, buildNo] = misbehave['plan-version'].split('.').map(Number);
      version = { major, minor, patch, build: buildNo || 0 };
    }
    planBad = Boolean(misbehave['bad-plan-header']);
    writePlan(o.saveEngine, meta, trt, { fillerBytes: engineBytes, badTag: planBad, version });
  }
  const engineMiB = (engineBytes + 64) / MiB;
  if (atLeast(trt, '10.0')) {
    log.info(`Engine built in ${cppFloat(seconds + 0.002)} sec.`);
    log.info(`Created engine with size: ${cppFloat(engineMiB)} MiB`);
    if (o.timingCacheFile) saveTimingCache(log, o.timingCacheFile, cache.entries, trt);
  } else {
    log.trt('I', `[MemUsageChange] TensorRT-managed allocation in building engine: CPU +${Math.ceil(engineMiB)}, GPU +${Math.ceil(engineMiB)}, now: CPU ${Math.ceil(engineMiB)}, GPU ${Math.ceil(engineMiB)} (MiB)`);
    if (o.timingCacheFile) saveTimingCache(log, o.timingCacheFile, cache.entries, trt);
    log.info(`Engine built in ${cppFloat(seconds + 0.002)} sec.`);
  }
  log.trt('I', `Loaded engine size: ${Math.ceil(engineMiB)} MiB`);
  log.info(`Engine deserialized in ${cppFloat(0.00143286)} sec.`);
  if (o.exportLayerInfo) {
    fs.writeFileSync(o.exportLayerInfo, JSON.stringify(layerInfo(model, o.precision, o.profilingVerbosity, device.cc), null, 2));
  }
  return { meta, model, planBad };
}

module.exports = { build, setupFailed, oneWildcard };
