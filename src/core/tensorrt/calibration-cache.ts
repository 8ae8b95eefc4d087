/**
 * INT8 calibration caches: the text file TensorRT's calibrators write (writeCalibrationCache) and
 * trtexec reads with `--calib=<file>`. A header line `TRT-<version>-<algorithm>`, the version as
 * trtexec's banner prints it (8601 = 8.6.1, 100900 = 10.9.0), then one line per tensor,
 * `<tensor name>: <scale>`, the scale being a float32's bits in hex (`data: 3c008912`). Names may
 * hold spaces, brackets and colons (`(Unnamed Layer* 4) [Fully Connected]_output`): readers split on
 * the last `:` (sampleEngines.cpp, readScalesFromCalibrationCache).
 *
 * Users upload a cache like a model (POST /v1/calibration-caches); the stored caches are listed by
 * src/storage/calibration-caches.ts, and a build names one by its sha256
 * (`options.tensorrt.calibration`).
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { decodeBannerVersion, formatTrtVersion } from './version';

/** Calibration caches are a line per tensor; even large networks stay far below this. */
export const CALIBRATION_MAX_BYTES = 64 * 1024 * 1024;
/** The calibrator trtexec builds with (RndInt8Calibrator is an IInt8EntropyCalibrator2). */
export const TRTEXEC_CALIBRATOR = 'EntropyCalibration2';

const HEADER = /^TRT-(\d{4,6})-([A-Za-z][A-Za-z0-9]*Calibration[A-Za-z0-9]*)\r?$/;
const SCALE_LINE = /^(.+): ([0-9A-Fa-f]{1,8})\r?$/;
const MAX_LINE = 4096;
const EXPECTED = 'a TensorRT INT8 calibration cache (a first line like TRT-8601-EntropyCalibration2, then "tensorName: hexScale" lines)';

export interface CalibrationHeader {
  /** The first line as written, e.g. `TRT-8601-EntropyCalibration2`. */
  header: string;
  /** The TensorRT version that wrote it, e.g. `8.6.1`. */
  trtVersion: string;
  /** The calibration algorithm, e.g. `EntropyCalibration2`. */
  algorithm: string;
}

export interface CalibrationCacheInfo extends CalibrationHeader {
  /** Tensors with a scale. */
  tensors: number;
}

/** A file that is not a calibration cache; the message says what was expected and where it went wrong. */
export class CalibrationCacheError extends Error {
  override name = 'CalibrationCacheError';
}

/** `TRT-8601-EntropyCalibration2` -> its parts; null for anything else. */
export function parseCalibrationHeader(line: string): CalibrationHeader | null {
  const m = HEADER.exec(line);
  if (!m) return null;
  let version: string;
  try {
    version = formatTrtVersion(decodeBannerVersion(Number(m[1])));
  } catch {
    return null;
  }
  return { header: line.replace(/\r$/, ''), trtVersion: version, algorithm: m[2] };
}

/** Reads a calibration cache line by line (never whole) and throws CalibrationCacheError unless it is one. */
export async function checkCalibrationCache(path: string): Promise<CalibrationCacheInfo> {
  let header: CalibrationHeader | null = null;
  let tensors = 0;
  let lineNo = 0;
  const quote = (line: string) => JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
  const badHeader = (line: string) => new CalibrationCacheError(`Expected ${EXPECTED} but line 1 is ${quote(line)}, not TRT-<version>-<algorithm>`);
  try {
    for await (const line of lines(createReadStream(path))) {
      lineNo++;
      if (lineNo === 1) {
        header = parseCalibrationHeader(line);
        if (!header) throw badHeader(line);
        continue;
      }
      if (line === '' || line === '\r') continue;
      if (!SCALE_LINE.test(line)) {
        throw new CalibrationCacheError(`Expected "tensorName: hexScale" lines (a float32's bits in hex, e.g. data: 3c008912) after the header but line ${lineNo} is ${quote(line)}`);
      }
      tensors++;
    }
  } catch (err) {
    if (!(err instanceof LineTooLong)) throw err;
    // A binary file (an ONNX model sent to the wrong route) usually has no newline early on.
    if (lineNo === 0) throw badHeader(err.start);
    throw new CalibrationCacheError(`Expected ${EXPECTED} with lines of at most ${MAX_LINE} characters but line ${lineNo + 1} is longer`);
  }
  if (!header) throw new CalibrationCacheError(`Expected ${EXPECTED} but the file is empty`);
  if (tensors === 0) throw new CalibrationCacheError(`Expected at least one "tensorName: hexScale" line after the header ${header.header} but the file has none`);
  return { ...header, tensors };
}

class LineTooLong extends Error {
  constructor(readonly start: string) {
    super('line too long');
  }
}

/** Lines of a text stream without their `\n`; a line past MAX_LINE characters throws LineTooLong. */
async function* lines(source: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of source) {
      pending += decoder.write(chunk as Buffer);
      let at: number;
      while ((at = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        if (line.length > MAX_LINE) throw new LineTooLong(line.slice(0, 100));
        yield line;
      }
      if (pending.length > MAX_LINE) throw new LineTooLong(pending.slice(0, 100));
    }
    pending += decoder.end();
    if (pending !== '') yield pending;
  } finally {
    source.destroy();
  }
}

/**
 * Why TensorRT might not use the cache as it is, for the build's warnings: trtexec calibrates with
 * EntropyCalibration2, and TensorRT 10 has been seen refusing caches written by 8.6 ("Calibration
 * table does not match calibrator algorithm type"), so a cache from another version is worth a note.
 */
export function calibrationWarnings(info: CalibrationHeader, workerTrt: string): string[] {
  const warnings: string[] = [];
  if (info.algorithm !== TRTEXEC_CALIBRATOR) {
    warnings.push(`calibration cache ${info.header} was written by ${info.algorithm}; trtexec calibrates with ${TRTEXEC_CALIBRATOR}, and TensorRT may ignore a table of another algorithm`);
  }
  const [major] = workerTrt.split('.');
  if (info.trtVersion.split('.')[0] !== major) {
    warnings.push(`calibration cache ${info.header} was written by TensorRT ${info.trtVersion}; this build uses ${workerTrt}, and TensorRT may refuse a table from another major version (recalibrate, or rewrite the header)`);
  }
  return warnings;
}
