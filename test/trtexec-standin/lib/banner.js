'use strict';
/** What trtexec prints before it builds or runs anything: options, the device block, the version. */
const { atLeast } = require('./device');
const { cppFloat } = require('./numbers');

const HELP = [
  '=== Model Options ===',
  '  --onnx=<file>                      ONNX model',
  '=== Build Options ===',
  '  --minShapes=spec / --optShapes=spec / --maxShapes=spec   Build with dynamic shapes using a profile',
  '  --memPoolSize=poolspec  --fp16  --int8  --best  --noTF32  --saveEngine=<file>  --timingCacheFile=<file>',
  '=== Inference Options ===',
  '  --loadEngine=<file>  --shapes=spec  --loadInputs=spec  --iterations=N  --duration=N  --warmUp=N',
  '=== Reporting Options ===',
  '  --percentile=P1,P2,P3,...  --exportOutput=<file>  --exportLayerInfo=<file>',
  '(the Kiln trtexec stand-in abbreviates trtexec\'s help; see test/trtexec-standin/README.md)',
];

function printHelp() {
  process.stdout.write(`${HELP.join('\n')}\n`);
}

function precisionText(precision) {
  let text = 'FP32';
  for (const [flag, name] of [['fp16', 'FP16'], ['bf16', 'BF16'], ['int8', 'INT8'], ['fp8', 'FP8']]) {
    if (precision.has(flag) || (precision.has('best') && (flag === 'fp16' || flag === 'int8'))) text += `+${name}`;
  }
  return precision.has('stronglyTyped') ? 'Strongly Typed' : text;
}

function printOptions(log, o, trt) {
  log.info('=== Model Options ===');
  log.info(`Format: ${o.onnx ? 'ONNX' : '*'}`);
  log.info(`Model: ${o.onnx || ''}`);
  log.info('Output:');
  log.info('=== Build Options ===');
  log.info(`Memory Pools: workspace: ${o.workspace !== undefined ? `${parseFloat(o.workspace)} MiB` : 'default'}, dlaSRAM: default, dlaLocalDRAM: default, dlaGlobalDRAM: default`);
  log.info(`Precision: ${precisionText(o.precision)}`);
  // sampleOptions.cpp prints "Dynamic" for --int8 (or --best) without --calib.
  log.info(`Calibration: ${(o.precision.has('int8') || o.precision.has('best')) && !o.calib ? 'Dynamic' : o.calib || ''}`);
  log.info(`Skip inference: ${o.skipInference ? 'Enabled' : 'Disabled'}`);
  log.info(`Save engine: ${o.saveEngine || ''}`);
  log.info(`Load engine: ${o.loadEngine || ''}`);
  log.info(`timingCacheMode: ${o.timingCacheFile ? 'global' : 'local'}`);
  log.info(`timingCacheFile: ${o.timingCacheFile || ''}`);
  log.info(`BuilderOptimizationLevel: ${o.builderOptimizationLevel ?? 3}`);
  o.profiles.forEach((p, i) => {
    for (const name of Object.keys(p.opt)) {
      const shape = `${name}=${p.min[name].join('x')}+${p.opt[name].join('x')}+${p.max[name].join('x')}`;
      log.info(atLeast(trt, '9.0') ? `Input build shape (profile ${i}): ${shape}` : `Input build shape: ${shape}`);
    }
  });
  log.info('=== System Options ===');
  log.info(`Device: ${o.device}`);
  log.info('=== Inference Options ===');
  log.info(`Iterations: ${o.inference.iterations ?? 10}`);
  log.info(`Duration: ${o.inference.duration ?? 3}s (+ ${o.inference.warmUp ?? 200}ms warm up)`);
  log.info('=== Reporting Options ===');
  log.info(`Percentiles: ${o.inference.percentiles.map(cppFloat).join(',')}`);
  log.info(`Export output to JSON file: ${o.exportOutput || ''}`);
  log.info('');
}

/** setCudaDevice: 9.3 and later list the devices and print ID and UUID; 8.6 does not. */
function printDevice(log, trt, device) {
  log.info('=== Device Information ===');
  const listed = atLeast(trt, '9.3');
  if (listed) {
    log.info('Available Devices: ');
    log.info(`  Device 0: "${device.name}" UUID: ${device.uuid}`);
  }
  log.info(`Selected Device: ${device.name}`);
  if (listed) {
    log.info('Selected Device ID: 0');
    log.info(`Selected Device UUID: ${device.uuid}`);
  }
  log.info(`Compute Capability: ${device.cc}`);
  log.info(`SMs: ${device.sms}`);
  log.info(`Device Global Memory: ${device.memoryMiB} MiB`);
  log.info(`Shared Memory per SM: ${device.smemKiB} KiB`);
  log.info(`Memory Bus Width: ${device.bus} bits (ECC ${device.ecc ? 'enabled' : 'disabled'})`);
  log.info(`Application Compute Clock Rate: ${device.clock} GHz`);
  log.info(`Application Memory Clock Rate: ${device.memClock} GHz`);
  log.info('');
  log.info('Note: The application clock rates do not reflect the actual clock rates that the GPU is currently running at.');
  log.info('');
  log.info(`TensorRT version: ${trt.text}`);
  log.info('Loading standard plugins');
  log.trt('I', `[MemUsageChange] Init CUDA: CPU +2, GPU +0, now: CPU 26, GPU ${Math.round(device.memoryMiB * 0.05)} (MiB)`);
}

module.exports = { printHelp, printOptions, printDevice };
