/**
 * The header of a serialized TensorRT engine (a "plan"): bytes 0..3 are the tag `ftrt` (uint32
 * 0x74727466 little-endian), bytes 4..7 the serialization version (0 from TensorRT 8.6), and bytes
 * 24..27 the major, minor, patch and build of the TensorRT that wrote it. trtexec reads the same
 * bytes for --getPlanVersionOnly (printPlanVersion in samples/common/sampleEngines.cpp, 10.x).
 * Checked before a plan is published and after a client fetches one.
 */
import { open } from 'node:fs/promises';
import { PlanHeaderError } from './errors';
import { formatTrtVersion, parseTrtVersion, type TrtVersion } from './version';

export const PLAN_TAG = 0x74727466;
export const PLAN_HEADER_BYTES = 28;
/** The serialization version every TensorRT from 8.6 writes. */
export const PLAN_SERIALIZATION_VERSION = 0;

export interface PlanHeader {
  tag: number;
  serializationVersion: number;
  /** major.minor.patch.build from bytes 24..27. */
  trt: Required<TrtVersion>;
}

/** Reads the header from a buffer or a file; throws PlanHeaderError when it is not a plan. */
export async function readPlanHeader(source: Uint8Array | string): Promise<PlanHeader> {
  if (typeof source === 'string') return parsePlanHeader(await readHead(source), source);
  return parsePlanHeader(source);
}

/** The synchronous core of readPlanHeader, for bytes already in memory. */
export function parsePlanHeader(bytes: Uint8Array, shown = 'the buffer'): PlanHeader {
  if (bytes.length < PLAN_HEADER_BYTES) {
    throw new PlanHeaderError(`Expected a TensorRT plan of at least ${PLAN_HEADER_BYTES} bytes but ${shown} has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, PLAN_HEADER_BYTES);
  const tag = view.getUint32(0, true);
  if (tag !== PLAN_TAG) {
    throw new PlanHeaderError(
      `Expected a TensorRT plan starting with "ftrt" (0x${PLAN_TAG.toString(16)}) but ${shown} starts with 0x${tag.toString(16).padStart(8, '0')} (${printable(bytes.subarray(0, 4))})`,
    );
  }
  return {
    tag,
    serializationVersion: view.getUint32(4, true),
    trt: { major: bytes[24], minor: bytes[25], patch: bytes[26], build: bytes[27] },
  };
}

/**
 * Checks that `path` is a plan this worker's TensorRT wrote: the tag, serialization version 0,
 * and `expected` (`10.9.0`, or `8.6.1.6` to check the build number too) in bytes 24..27.
 */
export async function checkPlan(path: string, expected: string | TrtVersion): Promise<PlanHeader> {
  const want = typeof expected === 'string' ? parseTrtVersion(expected) : expected;
  const header = await readPlanHeader(path);
  if (header.serializationVersion !== PLAN_SERIALIZATION_VERSION) {
    throw new PlanHeaderError(
      `Expected serialization version ${PLAN_SERIALIZATION_VERSION} (TensorRT >= 8.6) in ${path} but received ${header.serializationVersion}`,
    );
  }
  const got = header.trt;
  const sameRelease = got.major === want.major && got.minor === want.minor && got.patch === want.patch;
  if (!sameRelease || (want.build !== undefined && got.build !== want.build)) {
    throw new PlanHeaderError(
      `Expected a plan made by TensorRT ${formatTrtVersion(want, true)} but ${path} was made by ${formatTrtVersion(got, true)}`,
    );
  }
  return header;
}

/** A 28-byte header as TensorRT writes it; for the stand-in and tests. */
export function encodePlanHeader(trt: TrtVersion, serializationVersion = PLAN_SERIALIZATION_VERSION): Buffer {
  const header = Buffer.alloc(PLAN_HEADER_BYTES);
  header.writeUInt32LE(PLAN_TAG, 0);
  header.writeUInt32LE(serializationVersion, 4);
  header.set([trt.major, trt.minor, trt.patch, trt.build ?? 0], 24);
  return header;
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(PLAN_HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, PLAN_HEADER_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
}
