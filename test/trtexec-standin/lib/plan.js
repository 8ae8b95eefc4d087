'use strict';
/**
 * The stand-in's engine file. The first 28 bytes are laid out as a real TensorRT plan: `ftrt`
 * (uint32 0x74727466 LE), serialization version 0, and the TensorRT major.minor.patch.build in
 * bytes 24..27 (printPlanVersion in samples/common/sampleEngines.cpp). Bytes 8..23 say
 * "kiln-standin". After the header: a uint32 length and JSON naming the ONNX it came from (path
 * and sha256), the device and options it was built for; then filler the size of the weights, so
 * engine sizes look plausible.
 */
const fs = require('node:fs');

const TAG = 0x74727466;
const HEADER = 28;
const MARK = Buffer.from('kiln-standin\0\0\0\0');

function writePlan(path, meta, trt, { fillerBytes = 0, badTag = false, version } = {}) {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(badTag ? 0x74727478 : TAG, 0);
  header.writeUInt32LE(0, 4);
  MARK.copy(header, 8);
  const v = version || trt;
  header.set([v.major, v.minor, v.patch, v.build], 24);
  const json = Buffer.from(JSON.stringify(meta));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  const filler = Buffer.alloc(Math.min(fillerBytes, 64 * 1024 * 1024));
  fs.writeFileSync(path, Buffer.concat([header, length, json, filler]));
}

/**
 * Reads a plan the way the runtime would: checks the tag and version, then the stand-in's JSON.
 * Returns { meta, version } or { error } with the message real TensorRT logs.
 */
function readPlan(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < HEADER + 4 || buf.readUInt32LE(0) !== TAG) {
    return { error: '1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization (Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic tag does not match)' };
  }
  const version = { major: buf[24], minor: buf[25], patch: buf[26], build: buf[27] };
  const length = buf.readUInt32LE(HEADER);
  let meta = null;
  if (buf.subarray(8, 20).toString() === 'kiln-standin') {
    try {
      meta = JSON.parse(buf.subarray(HEADER + 4, HEADER + 4 + length).toString());
    } catch {
      meta = null;
    }
  }
  return { meta, version, size: buf.length };
}

module.exports = { writePlan, readPlan };
