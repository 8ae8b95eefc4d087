'use strict';
/**
 * Who the stand-in plays, from its environment: the TensorRT version and the GPU. Each test worker
 * sets its own, so one machine can play an RTX 4080 with TensorRT 10.9.0 and a T4 with 8.6.1.
 *
 *   KILN_STANDIN_TRT        TensorRT version, e.g. 10.9.0 or 8.6.1.6 (default 10.9.0); any release
 *                           of the contract table (8.6 ... 11.1), see README.md
 *   KILN_STANDIN_CC         compute capability (default 8.9)
 *   KILN_STANDIN_DEVICE     device name (default: a GPU of that CC)
 *   KILN_STANDIN_UUID       device UUID (default: derived from name and CC)
 *   KILN_STANDIN_MEMORY_MIB device memory (default: by device)
 *   KILN_STANDIN_MISBEHAVE  comma list, see README.md
 *   KILN_STANDIN_MS_PER_TACTIC  simulated build time per timing-cache miss, ms (default 2)
 */
const crypto = require('node:crypto');
const { releaseFor } = require('./contract');

/** Known GPUs per CC: name, SMs, memory (MiB), shared memory per SM (KiB), bus width, clocks. */
const GPUS = {
  '7.5': { name: 'Tesla T4', sms: 40, memoryMiB: 15102, smemKiB: 64, bus: 256, ecc: true, clock: 1.59, memClock: 5.001 },
  '8.0': { name: 'NVIDIA A100-SXM4-40GB', sms: 108, memoryMiB: 40339, smemKiB: 164, bus: 5120, ecc: true, clock: 1.41, memClock: 1.215 },
  '8.6': { name: 'NVIDIA GeForce RTX 3070', sms: 46, memoryMiB: 7817, smemKiB: 100, bus: 256, ecc: false, clock: 1.845, memClock: 7.001 },
  '8.9': { name: 'NVIDIA GeForce RTX 4080', sms: 76, memoryMiB: 15948, smemKiB: 100, bus: 256, ecc: false, clock: 2.505, memClock: 11.201 },
  '9.0': { name: 'NVIDIA H100 PCIe', sms: 114, memoryMiB: 81004, smemKiB: 228, bus: 5120, ecc: true, clock: 1.755, memClock: 1.593 },
};
const FALLBACK_GPU = { name: 'NVIDIA Stand-in GPU', sms: 32, memoryMiB: 8192, smemKiB: 64, bus: 256, ecc: false, clock: 1.5, memClock: 5 };

/**
 * The fourth number of each release the contract table covers, so plan headers and the banner carry
 * one. 8.6.1.6 and 10.9.0.34 are real (reference logs); 10.3.0.9 and 10.13.3.9 were chosen for
 * earlier tests; the others are plausible, not checked against NVIDIA's packages.
 */
const KNOWN_BUILDS = {
  '8.6.1': 6, '9.0.1': 4, '9.1.0': 4, '9.2.0': 5, '9.3.0': 1,
  '10.0.1': 6, '10.1.0': 27, '10.2.0': 19, '10.3.0': 9, '10.4.0': 26, '10.5.0': 18, '10.6.0': 26, '10.7.0': 23, '10.8.0': 43,
  '10.9.0': 34, '10.10.0': 31, '10.11.0': 33, '10.12.0': 36, '10.13.0': 35, '10.13.2': 6, '10.13.3': 9, '10.14.1': 48,
  '10.15.1': 29, '10.16.1': 11, '11.0.0': 20, '11.1.0': 13,
};

function parseMisbehave(text) {
  const flags = {};
  for (const item of (text || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = item.split('=');
    flags[key] = value === undefined ? true : value;
  }
  return flags;
}

function playedSetup(env) {
  const trtText = env.KILN_STANDIN_TRT || '10.9.0';
  const m = /^(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?$/.exec(trtText);
  if (!m) throw new Error(`KILN_STANDIN_TRT must look like 10.9.0 or 8.6.1.6 but is "${trtText}"`);
  const trt = { major: +m[1], minor: +m[2], patch: +m[3] };
  const release = `${trt.major}.${trt.minor}.${trt.patch}`;
  trt.build = m[4] !== undefined ? +m[4] : KNOWN_BUILDS[release] ?? 1;
  trt.text = release;
  // The release branch whose trtexec this version ships: its command line, grammar and failures.
  const contract = releaseFor(trt);
  // NV_TENSORRT_VERSION: major*1000+minor*100+patch before 10.0, major*10000+... from 10.0.
  trt.banner = trt.major >= 10 ? trt.major * 10000 + trt.minor * 100 + trt.patch : trt.major * 1000 + trt.minor * 100 + trt.patch;

  const misbehave = parseMisbehave(env.KILN_STANDIN_MISBEHAVE);
  const configuredCc = env.KILN_STANDIN_CC || '8.9';
  if (!/^\d{1,2}\.\d$/.test(configuredCc)) throw new Error(`KILN_STANDIN_CC must look like 8.9 but is "${configuredCc}"`);
  // wrong-cc / report-cc: the GPU trtexec really finds is not the one the worker believes it has.
  let cc = configuredCc;
  if (typeof misbehave['report-cc'] === 'string') cc = misbehave['report-cc'];
  else if (misbehave['wrong-cc']) cc = configuredCc === '8.6' ? '8.9' : '8.6';
  const gpu = GPUS[configuredCc] || FALLBACK_GPU;
  const name = env.KILN_STANDIN_DEVICE || gpu.name;
  const uuid = env.KILN_STANDIN_UUID || uuidFor(`${name}/${configuredCc}`);
  return {
    trt,
    contract,
    device: { ...gpu, name, uuid, cc, memoryMiB: Number(env.KILN_STANDIN_MEMORY_MIB) || gpu.memoryMiB },
    misbehave,
    msPerTactic: env.KILN_STANDIN_MS_PER_TACTIC !== undefined ? Number(env.KILN_STANDIN_MS_PER_TACTIC) : 2,
  };
}

function uuidFor(seed) {
  const h = crypto.createHash('sha256').update(seed).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function atLeast(trt, version) {
  const [major, minor] = version.split('.').map(Number);
  return trt.major > major || (trt.major === major && trt.minor >= minor);
}

module.exports = { playedSetup, atLeast };
