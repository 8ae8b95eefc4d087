'use strict';
/**
 * The stand-in's "engine execution": the ONNX the plan came from, run by ONNX Runtime on the CPU,
 * with the precision loss the engine's mode would cause (inputs and outputs rounded through fp16,
 * bf16 or fp8; int8 outputs quantised per tensor), so validation sees a realistic small error.
 * TF32 is not simulated: fp32 engines match ONNX Runtime exactly (up to printing).
 */
const fs = require('node:fs');
const { cppFloat, elementRounding, quantizeInt8 } = require('./numbers');

/** ONNX element type -> [ORT type, typed array, bytes per element of the engine binding]. */
function bindingOf(type, trt) {
  switch (type) {
    case 'float': return { ort: 'float32', Array: Float32Array, bytes: 4 };
    case 'double': return { ort: 'float64', Array: Float64Array, bytes: 8 };
    case 'int32': return { ort: 'int32', Array: Int32Array, bytes: 4 };
    // TensorRT 8.6 has no INT64: int64 network inputs and outputs become INT32 bindings.
    case 'int64': return trt.major < 9 ? { ort: 'int64', Array: BigInt64Array, bytes: 4, via: Int32Array } : { ort: 'int64', Array: BigInt64Array, bytes: 8 };
    case 'int8': return { ort: 'int8', Array: Int8Array, bytes: 1 };
    case 'uint8': return { ort: 'uint8', Array: Uint8Array, bytes: 1 };
    case 'bool': return { ort: 'bool', Array: Uint8Array, bytes: 1 };
    default: throw new Error(`the stand-in does not play ${type} bindings`);
  }
}

const volume = (dims) => dims.reduce((a, b) => a * b, 1);

/** Reads a --loadInputs raw file for one input; throws trtexec's message on a size mismatch. */
function loadInput(file, input, dims, trt) {
  const b = bindingOf(input.type, trt);
  const size = volume(dims) * b.bytes;
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch {
    throw new Error(`Cannot open input file ${file}`);
  }
  if (buf.length !== size) {
    throw new Error(`Unexpected file size for input file: ${file}. Note: Input binding size is: ${size} bytes but the file size is ${buf.length} bytes. Double check the size and datatype of the provided data.`);
  }
  const copy = new Uint8Array(buf).buffer;
  if (b.via) return BigInt64Array.from(new b.via(copy), (v) => BigInt(v));
  return new b.Array(copy);
}

function randomInput(input, dims, seed) {
  const b = bindingOf(input.type, { major: 10 });
  const n = volume(dims);
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  if (b.Array === BigInt64Array) return new BigInt64Array(n);
  if (b.Array === Float32Array || b.Array === Float64Array) return b.Array.from({ length: n }, () => next() * 2 - 1);
  return new b.Array(n);
}

/**
 * Runs the model: feeds { name: { data, dims } }; returns [{ name, dims, type, values }] in the
 * model's output order, after the precision mode's rounding.
 */
async function runModel(onnxPath, model, feeds, precision) {
  const ort = require('onnxruntime-node');
  const round = elementRounding(precision);
  const ortFeeds = {};
  for (const input of model.graph.inputs) {
    const feed = feeds[input.name];
    const b = bindingOf(input.type, { major: 10 });
    let data = feed.data;
    if (round && data instanceof Float32Array) data = data.map(round);
    ortFeeds[input.name] = new ort.Tensor(b.ort, data, feed.dims);
  }
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const results = await session.run(ortFeeds);
    return model.graph.outputs.map((output) => {
      const t = results[output.name];
      let values = Array.from(t.data);
      if (typeof values[0] === 'number' && t.type.startsWith('float')) {
        if (round) values = values.map(round);
        if (precision.includes('int8') || precision.includes('best')) values = quantizeInt8(values);
      }
      return { name: output.name, dims: t.dims.map(Number), type: t.type, values };
    });
  } finally {
    await session.release();
  }
}

/** exportJSONOutput's layout (samples/common/sampleReporting.cpp). */
function exportOutputs(path, outputs) {
  let text = '[\n';
  let sep = '  ';
  for (const o of outputs) {
    const values = o.values.map((v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'boolean' ? (v ? '1' : '0') : o.type.startsWith('float') ? cppFloat(Math.fround(v)) : String(v)));
    text += `${sep}{ "name" : "${o.name}"\n`;
    sep = ', ';
    text += `  ${sep}"dimensions" : "${o.dims.join('x')}"\n`;
    text += `  ${sep}"values" : [ ${values.join(sep)} ]\n  }\n`;
  }
  text += ']\n';
  fs.writeFileSync(path, text);
}

module.exports = { loadInput, randomInput, runModel, exportOutputs, bindingOf, volume };
