#!/usr/bin/env node
'use strict';
/**
 * TEST STAND-IN for NVIDIA's trtexec. This is NOT TensorRT: it builds no engine and uses no GPU.
 * It keeps trtexec's command line, log format, exit status and files (plan header, timing cache,
 * layer info, --exportOutput JSON) so Kiln's TensorRT toolchain can be tested on machines without
 * a GPU. Outputs are computed by ONNX Runtime on the CPU. See README.md next to this file.
 */
const { playedSetup } = require('./lib/device');
const { Log } = require('./lib/log');
const { parse, InvalidArgument } = require('./lib/options');
const { fill } = require('./lib/contract');
const { printHelp, printOptions, printDevice } = require('./lib/banner');
const { build } = require('./lib/build');
const { loadEngine, infer } = require('./lib/run');
const { atLeast } = require('./lib/device');

async function main(log, report) {
  const setup = playedSetup(process.env);
  const { trt, device, misbehave, contract } = setup;
  if (misbehave['ignore-sigterm']) {
    // Says so once, so a test can wait for the signal to have arrived before escalating to SIGKILL.
    process.on('SIGTERM', () => log.warn('the stand-in ignores SIGTERM (KILN_STANDIN_MISBEHAVE=ignore-sigterm)'));
  }
  const argv = process.argv.slice(2);
  report.banner = `TensorRT.trtexec [TensorRT v${trt.banner}]${atLeast(trt, '10.4') ? ` [b${trt.build}]` : ''}`;
  report('RUNNING');
  if (argv.length === 0) {
    printHelp();
    return report('PASSED');
  }
  let parsed;
  try {
    parsed = parse(argv, contract);
  } catch (err) {
    if (!(err instanceof InvalidArgument)) throw err;
    return failCommandLine(log, report, contract, [err.message]);
  }
  if (parsed.options.help) {
    printHelp();
    return 0;
  }
  if (parsed.unknown.length > 0) {
    return failCommandLine(log, report, contract, parsed.unknown.map((a) => fill(contract.commandLine.unknownOption, a.name, a.value)));
  }
  if (parsed.notPlayed.length > 0) {
    // Not trtexec's voice: the release accepts these, the stand-in cannot play them.
    for (const name of new Set(parsed.notPlayed)) log.error(`the Kiln trtexec stand-in does not play ${name} (TensorRT ${contract.version}'s trtexec accepts it)`);
    return report('FAILED');
  }
  for (const warning of parsed.warnings) log.warn(warning);
  const o = parsed.options;
  log.verbose = Boolean(o.verbose);
  for (const profile of o.profiles) for (const w of profile.warnings) log.warn(w);
  const implicit = ['fp16', 'bf16', 'int8', 'fp8', 'best', 'stronglyTyped'].some((p) => o.precision.has(p));
  if (atLeast(trt, '10.0') && Number(device.cc) >= 8 && !implicit && !o.precision.has('noTF32')) {
    log.info('TF32 is enabled by default. Add --noTF32 flag to further improve accuracy with some performance cost.');
  }
  printOptions(log, o, trt);
  // The stand-in plays one GPU, CUDA device 0 (a worker pinned by CUDA_VISIBLE_DEVICES sees its GPU as 0).
  if (o.device !== 0) {
    log.error(`Cannot find device ID ${o.device}!`);
    return report('FAILED');
  }
  printDevice(log, trt, device);
  const engine = o.loadEngine ? loadEngine(log, o, setup) : await build(log, o, setup);
  if (!engine) return report('FAILED');
  if (o.skipInference) {
    log.info('Skipped inference phase since --skipInference is added.');
    return report('PASSED');
  }
  return report((await infer(log, o, setup, engine)) ? 'PASSED' : 'FAILED');
}

/**
 * A command line the release refuses: the help text (before the errors from 10.0, after them on 8.6
 * and 9.x), the errors, then `&&&& FAILED` and exit status 1, or, where the release returns without
 * the status line (11.1), exit status 1 alone. From the table's commandLine facts.
 */
function failCommandLine(log, report, contract, errors) {
  const { help, failure } = contract.commandLine;
  if (help.printed === 'before-errors') printHelp();
  for (const e of errors) log.error(e);
  if (help.printed === 'after-errors') printHelp();
  return failure.statusLine ? report('FAILED') : failure.exitStatus;
}

const log = new Log();
/** Prints a `&&&& STATUS` line; returns trtexec's exit status for it. */
const report = (status) => {
  process.stdout.write(`&&&& ${status} ${report.banner} # ${['trtexec', ...process.argv.slice(2)].join(' ')}\n`);
  return status === 'FAILED' ? 1 : 0;
};
report.banner = 'TensorRT.trtexec [TensorRT v0]';

main(log, report).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    log.error(`Uncaught exception detected: ${err.message}`);
    process.exitCode = report('FAILED');
  },
);
