'use strict';
/**
 * The inference phase: load a plan (checking its header, version and device as the runtime does),
 * bind inputs (loaded from --loadInputs raw files or random), "run" (timings from a simple cost
 * model, no real waiting), print the performance summary in sampleReporting.cpp's format, and
 * export outputs computed by ONNX Runtime when asked.
 */
const fs = require('node:fs');
const path = require('node:path');
const { atLeast } = require('./device');
const { readOnnx, zeroWeights } = require('./onnx');
const { cppFloat } = require('./numbers');
const { readPlan } = require('./plan');
const { setupFailed } = require('./build');
const { loadInput, randomInput, runModel, exportOutputs, volume } = require('./infer');

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function versionText(v) {
  return `${v.major}.${v.minor}.${v.patch}.${v.build}`;
}

/** Loads --loadEngine; returns { meta } or null after trtexec's failure lines. */
function loadEngine(log, o, setup) {
  const { trt, device } = setup;
  if (!fs.existsSync(o.loadEngine)) {
    log.error(`Error opening engine file: ${o.loadEngine}`);
    return setupFailed(log);
  }
  log.info(`Engine loaded in ${cppFloat(0.0137625)} sec.`);
  const plan = readPlan(o.loadEngine);
  log.trt('I', `Loaded engine size: ${Math.max(1, Math.round((plan.size || 0) / MiB))} MiB`);
  if (plan.error) {
    log.trt('E', plan.error);
    return setupFailed(log);
  }
  const v = plan.version;
  const sameVersion = v.major === trt.major && v.minor === trt.minor && v.patch === trt.patch && v.build === trt.build;
  const forwardCompatible = plan.meta && plan.meta.versionCompatible && v.major === trt.major && (v.minor < trt.minor || (v.minor === trt.minor && v.patch <= trt.patch));
  if (!sameVersion && !forwardCompatible) {
    log.trt('E', `6: The engine plan file is not compatible with this version of TensorRT, expecting library version ${versionText(trt)} got ${versionText(v)}, please rebuild.`);
    return setupFailed(log);
  }
  if (!plan.meta) {
    log.trt('E', '1: [the Kiln stand-in] this plan was not written by the stand-in, which can only run its own plans');
    return setupFailed(log);
  }
  const { meta } = plan;
  const level = meta.hardwareCompatibilityLevel;
  const compatible = level === 'ampere+' ? Number(device.cc) >= 8 : meta.cc === device.cc;
  if (!compatible) {
    log.trt('E', `6: The engine plan file is generated on an incompatible device, expecting compute ${device.cc} got compute ${meta.cc}, please rebuild.`);
    return setupFailed(log);
  }
  if (meta.device !== device.name) {
    log.trt('W', 'Using an engine plan file across different models of devices is not recommended and is likely to affect performance or even cause errors.');
  }
  if (meta.versionCompatible && !meta.excludeLeanRuntime && !o.versionCompatible) {
    // The runtime refuses engine host code unless trtexec called setEngineHostCodeAllowed(true),
    // which it does only for --versionCompatible/--vc (sampleEngines.cpp). Its own message lives in
    // libnvinfer, not in NVIDIA/TensorRT, so this [TRT] line is the stand-in's wording; the [E]
    // lines after it are trtexec's (sampleEngines.cpp, sampleInference.cpp, trtexec.cpp).
    log.trt('E', 'IRuntime::deserializeCudaEngine: [Kiln stand-in wording, not TensorRT\'s] this engine is version compatible and embeds the lean runtime (host code), which this runtime was not allowed to run; load it with --versionCompatible');
    log.error('Engine deserialization failed');
    log.error('Got invalid engine!');
    log.error('Inference set up failed');
    return null;
  }
  log.info(`Engine deserialized in ${cppFloat(0.0357642)} sec.`);
  const engine = { meta, onnx: meta.onnx, weights: meta.stripWeights ? 'stripped' : 'built' };
  const refit = setup.contract.loading.refitFromOnnx;
  // trtexec refits only `if (supportDeserialization && options.build.refittable)`: without --refit
  // on the load command, --refitFromOnnx is read and silently unused.
  if (refit && o.refitFromOnnx && o.refit) return refitFromOnnx(log, o.refitFromOnnx, engine, refit);
  return engine;
}

/**
 * --refitFromOnnx (10.14+): trtexec's refitFromOnnx lines around TensorRT's ONNX parser refitter.
 * The refitter's own error texts are not in NVIDIA's samples; the stand-in's are labelled.
 */
function refitFromOnnx(log, file, engine, refit) {
  const say = (message) => message.message.replace('{}', file);
  log.info(say(refit.logs[0]));
  let problem = null;
  if (!engine.meta.refittable) problem = 'the engine was not built refittable (--refit, or --stripWeights)';
  else {
    try {
      const model = readOnnx(file);
      const names = (m) => JSON.stringify(m.graph.initializers.map((t) => [t.name, t.dims]).sort());
      if (names(model) !== names(readOnnx(engine.meta.onnx))) problem = `the weights of ${file} do not match the engine's layers`;
    } catch {
      problem = `cannot read an ONNX model from ${file}`;
    }
  }
  if (problem) {
    log.trt('E', `[Kiln stand-in wording, not TensorRT's] refit failed: ${problem}`);
    log.error(refit.failed.message);
    return null;
  }
  log.info(say(refit.logs[1]));
  return { ...engine, onnx: path.resolve(file), weights: 'refitted' };
}

/** Concrete input shapes: --shapes, else static dims, else the profile's opt shape (with trtexec's warning). */
function inputShapes(log, meta, inference) {
  const profile = meta.profiles[inference.profile || 0];
  if (inference.profile && !profile) {
    return { error: `3: [executionContext.cpp::setOptimizationProfileInternal::1431] Error Code 3: API Usage Error (Parameter check failed: profileIndex >= 0 && profileIndex < mEngine.getNbOptimizationProfiles())` };
  }
  const shapes = {};
  for (const input of meta.inputs) {
    const given = inference.shapes && inference.shapes[input.name];
    const dynamic = input.dims.some((d) => typeof d !== 'number' || d < 0);
    let dims = given || (dynamic ? null : input.dims);
    if (!dims) {
      dims = profile ? profile.opt[input.name] : input.dims.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      log.warn(`Dynamic dimensions required for input: ${input.name}, but no shapes were provided. Automatically overriding shape to: ${dims.join('x')}`);
    }
    if (profile && profile.min[input.name]) {
      const min = profile.min[input.name];
      const max = profile.max[input.name];
      if (dims.length !== min.length || dims.some((d, i) => d < min[i] || d > max[i])) {
        return { error: `3: [executionContext.cpp::setInputShape::2278] Error Code 3: API Usage Error (Parameter check failed, condition: engineDims.d[i] == dims.d[i]. Static dimension mismatch while setting input shape for ${input.name}. Set dimensions are [${dims.join(',')}]. Expected dimensions are [${min.join(',')}] to [${max.join(',')}].)` };
      }
    }
    shapes[input.name] = dims;
  }
  return { shapes };
}

/** Output dims: symbolic dims take the value the inputs gave the same symbol. */
function outputDims(meta, shapes) {
  const symbols = {};
  for (const input of meta.inputs) input.dims.forEach((d, i) => { if (typeof d === 'string') symbols[d] = shapes[input.name][i]; });
  return Object.fromEntries(meta.outputs.map((o) => [o.name, o.dims.map((d) => (typeof d === 'number' && d > 0 ? d : symbols[d] ?? 1))]));
}

/** trtexec's findPercentile and findMedian over sorted timings. */
function stats(sorted, percentiles) {
  const n = sorted.length;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const pct = percentiles.map((p) => sorted[Math.max(n - 1 - Math.floor((1 - p / 100) * n), 0)]);
  const cv = (Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n) / mean) * 100;
  return { min: sorted[0], max: sorted[n - 1], mean, median, pct, cv };
}

function perfString(s, percentiles) {
  let text = `min = ${cppFloat(s.min)} ms, max = ${cppFloat(s.max)} ms, mean = ${cppFloat(s.mean)} ms, median = ${cppFloat(s.median)} ms`;
  percentiles.forEach((p, i) => { text += `, percentile(${cppFloat(p)}%) = ${cppFloat(s.pct[i])} ms`; });
  return text;
}

/** A cost model: weights and batch size set the GPU time; precision and GPU generation scale it. */
function simulateTimings(meta, shapes, setup, inference) {
  const { device } = setup;
  const batch = Math.max(1, ...Object.values(shapes).map((d) => d[0] || 1));
  const precisionFactor = meta.precision.includes('int8') || meta.precision.includes('best') ? 0.4 : meta.precision.includes('fp16') || meta.precision.includes('bf16') ? 0.55 : 1;
  const ccFactor = { '7.5': 2.2, '8.0': 1.1, '8.6': 1.4, '8.9': 1, '9.0': 0.7 }[device.cc] || 1.2;
  const compute = (0.02 + batch * (0.002 + (meta.weightBytes / 4) * 2e-7)) * precisionFactor * ccFactor;
  const inBytes = meta.inputs.reduce((sum, i) => sum + volume(shapes[i.name]) * 4, 0);
  const h2d = 0.004 + inBytes / 12e6;
  const d2h = 0.003 + inBytes / 48e6;
  const durationMs = (inference.duration ?? 3) * 1000;
  const iterations = inference.iterations ?? 10;
  const queries = Math.max(iterations, Math.min(20000, Math.floor(durationMs / (compute + h2d + d2h))));
  let s = 12345;
  const jitter = () => 1 + (((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5) * 0.04;
  const rows = Array.from({ length: queries }, () => {
    const row = { enq: 0.01 * jitter(), h2d: h2d * jitter(), compute: compute * jitter(), d2h: d2h * jitter() };
    row.latency = row.h2d + row.compute + row.d2h;
    return row;
  });
  const warmUp = inference.warmUp ?? 200;
  return { rows, batch, warmups: warmUp > 0 ? Math.max(1, Math.round(warmUp / (compute + h2d + d2h))) : 0 };
}

function printPerformance(log, timing, inference) {
  const { rows } = timing;
  const percentiles = inference.percentiles;
  const meanLatency = rows.reduce((a, r) => a + r.latency, 0) / rows.length;
  const walltimeMs = rows.length * meanLatency;
  log.info(`Warmup completed ${timing.warmups} queries over ${inference.warmUp ?? 200} ms`);
  log.info(`Timing trace has ${rows.length} queries over ${cppFloat(walltimeMs / 1000)} s`);
  log.info('');
  log.info('=== Trace details ===');
  log.info('Trace averages of 10 runs:');
  for (let i = 0; i + 10 <= Math.min(rows.length, 20); i += 10) {
    const slice = rows.slice(i, i + 10);
    const avg = (key) => slice.reduce((a, r) => a + r[key], 0) / 10;
    log.info(`Average on 10 runs - GPU latency: ${cppFloat(avg('compute'))} ms - Host latency: ${cppFloat(avg('latency'))} ms (enqueue ${cppFloat(avg('enq'))} ms)`);
  }
  const metric = (key) => stats(rows.map((r) => r[key]).sort((a, b) => a - b), percentiles);
  const gpu = metric('compute');
  log.info('');
  log.info('=== Performance summary ===');
  log.info(`Throughput: ${cppFloat((rows.length / walltimeMs) * 1000)} qps`);
  log.info(`Latency: ${perfString(metric('latency'), percentiles)}`);
  log.info(`Enqueue Time: ${perfString(metric('enq'), percentiles)}`);
  log.info(`H2D Latency: ${perfString(metric('h2d'), percentiles)}`);
  log.info(`GPU Compute Time: ${perfString(gpu, percentiles)}`);
  log.info(`D2H Latency: ${perfString(metric('d2h'), percentiles)}`);
  log.info(`Total Host Walltime: ${cppFloat(walltimeMs / 1000)} s`);
  log.info(`Total GPU Compute Time: ${cppFloat((gpu.mean * rows.length) / 1000)} s`);
  if (gpu.cv > 1) {
    log.warn(`* GPU compute time is unstable, with coefficient of variance = ${cppFloat(gpu.cv)}%.`);
    log.warn('  If not already in use, locking GPU clock frequency or adding --useSpinWait may improve the stability.');
  }
  log.info('Explanations of the performance metrics are printed in the verbose logs.');
  log.info('');
}

/** Runs inference on a built or loaded engine; true when it passed. */
async function infer(log, o, setup, engine) {
  const { trt, misbehave } = setup;
  const { meta } = engine;
  const inference = o.inference;
  const resolved = inputShapes(log, meta, inference);
  if (resolved.error) {
    log.trt('E', resolved.error);
    log.error('Inference set up failed');
    return false;
  }
  const { shapes } = resolved;
  const contextMiB = meta.activationBytes / MiB;
  log.trt('I', `[MemUsageChange] TensorRT-managed allocation in IExecutionContext creation: CPU +0, GPU +${Math.ceil(contextMiB)}, now: CPU 0, GPU ${Math.ceil(contextMiB) + 6} (MiB)`);
  log.info('Setting persistentCacheLimit to 0 bytes.');
  if (atLeast(trt, '10.0')) log.info(`Created execution context with device memory size: ${cppFloat(contextMiB)} MiB`);
  const feeds = {};
  for (const input of meta.inputs) {
    const file = inference.inputs && inference.inputs[input.name];
    const dims = shapes[input.name];
    if (file) {
      log.info(`Using values loaded from ${file} for input ${input.name}`);
      feeds[input.name] = { data: loadInput(file, input, dims, trt), dims };
    } else {
      log.info(`Using random values for input ${input.name}`);
      feeds[input.name] = { data: randomInput(input, dims, 7), dims };
    }
    log.info(atLeast(trt, '10.0') ? `Input binding for ${input.name} with dimensions ${dims.join('x')} is created.` : `Created input binding for ${input.name} with dimensions ${dims.join('x')}`);
  }
  const outDims = outputDims(meta, shapes);
  for (const output of meta.outputs) {
    log.info(atLeast(trt, '10.0') ? `Output binding for ${output.name} with dimensions ${outDims[output.name].join('x')} is created.` : `Created output binding for ${output.name} with dimensions ${outDims[output.name].join('x')}`);
  }
  log.info('Starting inference');
  if (misbehave.sleep) await sleep(Number(misbehave.sleep));
  const timing = simulateTimings(meta, shapes, setup, inference);
  // With a profiler on, trtexec times one run; before 11.0 the end-to-end report is then skipped
  // unless --separateProfileRun (trtexec.cpp, `profilerEnabled && !options.inference.rerun`).
  const profiled = Boolean(o.exportProfile);
  if (profiled && !inference.separateProfileRun && !atLeast(trt, '11.0')) {
    log.info('The e2e network timing is not reported since it is inaccurate due to the extra synchronizations when the profiler is enabled.');
    log.info('To show e2e network timing report, add --separateProfileRun to profile layer timing in a separate run or remove --dumpProfile to disable the profiler.');
  } else {
    printPerformance(log, timing, inference);
  }
  if (o.exportOutput || inference.dumpOutput) {
    const onnx = engine.onnx || meta.onnx;
    if (!fs.existsSync(onnx)) throw new Error(`the stand-in cannot find the ONNX its plan came from: ${onnx}`);
    const model = readOnnx(onnx);
    // A stripped plan nobody refitted runs without its weights (zeroed here; see README.md).
    const stripped = meta.stripWeights && engine.weights !== 'refitted';
    const outputs = await runModel(stripped ? zeroWeights(onnx) : onnx, model, feeds, meta.precision);
    if (o.exportOutput) exportOutputs(o.exportOutput, outputs);
    if (inference.dumpOutput) {
      log.info('Output Tensors:');
      for (const out of outputs) log.raw(`${out.name}: (${out.dims.join('x')})\n${out.values.map((v) => cppFloat(Number(v))).join(' ')}`);
    }
  }
  if (profiled) exportProfile(o.exportProfile, engine, timing, setup.contract);
  return true;
}

/**
 * --exportProfile in Profiler::exportJSONProfile's layout (sampleReporting.cpp; the fields from the
 * contract table): `[`, `  { "count" : N }`, then `, { "name" : ..., "timeMs" : ..., ... }` per
 * layer, `]`. Layers are the ONNX nodes (as --exportLayerInfo names them); the mean GPU time is
 * shared among them by their weights, with a little jitter per run.
 */
function exportProfile(file, engine, timing, contract) {
  const model = readOnnx(engine.onnx || engine.meta.onnx);
  const sizes = new Map(model.graph.initializers.map((t) => [t.name, t.dims.reduce((a, b) => a * b, 1)]));
  const layers = model.graph.nodes.map((node, i) => ({
    name: node.name || `${node.opType}_${i}`,
    weight: 1 + node.inputs.reduce((sum, input) => sum + (sizes.get(input) || 0), 0) / 64,
  }));
  const total = layers.reduce((a, l) => a + l.weight, 0);
  const count = timing.rows.length;
  const gpuMean = timing.rows.reduce((a, r) => a + r.compute, 0) / count;
  const [countKey] = contract.reporting.exportProfile.header;
  const keys = contract.reporting.exportProfile.layer;
  let text = `[\n  { "${countKey}" : ${count} }\n`;
  for (const layer of layers) {
    const average = (gpuMean * layer.weight) / total;
    const values = { name: `"${layer.name}"`, timeMs: cppFloat(average * count), averageMs: cppFloat(average), medianMs: cppFloat(average * 0.995), percentage: cppFloat((layer.weight / total) * 100) };
    text += `, { ${keys.map((k) => `"${k}" : ${values[k]}`).join(', ')} }\n`;
  }
  fs.writeFileSync(file, `${text}]\n`);
}

module.exports = { loadEngine, infer };
