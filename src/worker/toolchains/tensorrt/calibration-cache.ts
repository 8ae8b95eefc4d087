/**
 * INT8 calibration caches: the text file TensorRT's calibrators write (writeCalibrationCache) and
 * trtexec reads with `--calib=<file>`. A header line `TRT-<version>-<algorithm>`, the version as
 * trtexec's banner prints it (8601 = 8.6.1, 100900 = 10.9.0), then one line per tensor,
 * `<tensor name>: <scale>`, the scale being a float32's bits in hex (`data: 3c008912`). Names may
 * hold spaces, brackets and colons (`(Unnamed Layer* 4) [Fully Connected]_output`): readers split on
 * the last `:` (sampleEngines.cpp, readScalesFromCalibrationCache).
 *
 * Users upload a cache like a model (POST /v1/calibration-caches); it is stored once by its sha256
 * (`calibrationKey`), a build names it by that sha256 (`options.tensorrt.calibration`), and the
 * worker copies it into the build's work dir for `--calib`. Size and date come from the stored
 * object and the header from its first line, so the store alone describes every cache.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { ArtifactStore } from '../../../storage/artifact-store';
import { NotFoundError } from '../../../storage/errors';
import { CALIBRATION_PREFIX, calibrationKey } from '../../../storage/layout';
import { downloadToFile } from '../../../storage/publish';
import { BuildInputError } from '../toolchain';
import { decodeBannerVersion, formatTrtVersion } from './version';

/** Calibration caches are a line per tensor; even large networks stay far below this. */
export const CALIBRATION_MAX_BYTES = 64 * 1024 * 1024;
/** The calibrator trtexec builds with (RndInt8Calibrator is an IInt8EntropyCalibrator2). */
export const TRTEXEC_CALIBRATOR = 'EntropyCalibration2';

const HEADER = /^TRT-(\d{4,6})-([A-Za-z][A-Za-z0-9]*Calibration[A-Za-z0-9]*)\r?$/;
const SCALE_LINE = /^(.+): ([0-9A-Fa-f]{1,8})\r?$/;
const MAX_LINE = 4096;
const EXPECTED = 'a TensorRT INT8 calibration cache (a first line like TRT-8601-EntropyCalibration2, then "tensorName: hexScale" lines)';
const HOW_TO_UPLOAD = 'upload it with POST /v1/calibration-caches (kiln calibration push FILE)';

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

export interface CalibrationListing extends CalibrationHeader {
  sha256: string;
  sizeBytes: number;
  uploadedAt: string;
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

/** The header of a stored cache, from its first bytes; null when they are not one. */
export async function readStoredHeader(store: ArtifactStore, sha256: string): Promise<CalibrationHeader | null> {
  const got = await store.get(calibrationKey(sha256), { start: 0, end: 255 });
  let text = '';
  for await (const chunk of got.body) text += (chunk as Buffer).toString('latin1');
  return parseCalibrationHeader(text.split('\n')[0]);
}

const STORED = new RegExp(`^${CALIBRATION_PREFIX}([0-9a-f]{64})\\.cache$`);

/** Every stored calibration cache, newest first. */
export async function listCalibrationCaches(store: ArtifactStore): Promise<CalibrationListing[]> {
  const found: CalibrationListing[] = [];
  for await (const info of store.list(CALIBRATION_PREFIX)) {
    const sha256 = STORED.exec(info.key)?.[1];
    if (!sha256) continue;
    // Only checked caches are stored; a header that does not parse means the object changed behind Kiln's back.
    const header = await readStoredHeader(store, sha256).catch((err) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!header) continue;
    found.push({ sha256, sizeBytes: info.size, uploadedAt: info.lastModified.toISOString(), ...header });
  }
  return found.sort((a, b) => b.uploadedAt.localeCompare(a.uploadedAt) || a.sha256.localeCompare(b.sha256));
}

/** Whether a cache of this sha256 was uploaded. */
export async function hasCalibrationCache(store: ArtifactStore, sha256: string): Promise<boolean> {
  return (await store.head(calibrationKey(sha256))) !== null;
}

/** The message for a build naming a cache that was never uploaded (or is gone). */
export function missingCalibrationMessage(sha256: string): string {
  return `options.tensorrt.calibration: no INT8 calibration cache ${sha256} was uploaded; ${HOW_TO_UPLOAD}`;
}

/**
 * Copies the cache to `dest`, verifying its sha256; a cache that is not in the store is bad input
 * (BuildInputError), which retrying will not fix.
 */
export async function fetchCalibrationCache(store: ArtifactStore, sha256: string, dest: string): Promise<CalibrationCacheInfo & { sha256: string; sizeBytes: number }> {
  let copied;
  try {
    copied = await downloadToFile(store, calibrationKey(sha256), dest, sha256);
  } catch (err) {
    if (err instanceof NotFoundError) throw new BuildInputError(missingCalibrationMessage(sha256));
    throw err;
  }
  const info = await checkCalibrationCache(dest).catch((err) => {
    if (err instanceof CalibrationCacheError) throw new BuildInputError(`options.tensorrt.calibration: the stored cache ${sha256} is not a calibration cache: ${err.message}`);
    throw err;
  });
  return { ...info, sha256: copied.sha256, sizeBytes: copied.size };
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
