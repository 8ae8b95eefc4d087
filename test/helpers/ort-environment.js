/**
 * Jest runs tests in a separate V8 realm, so the Float32Array that onnxruntime-node's native
 * binding creates fails onnxruntime-common's `instanceof Float32Array` check inside the sandbox
 * ("A float32 tensor's data must be type of function Float32Array()"). Sharing the host's typed
 * array constructors with the sandbox makes both sides agree. It is every test's environment
 * (jest.config.js), because the worker, the toolchains and the stand-ins all run ONNX Runtime.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
