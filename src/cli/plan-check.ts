/**
 * Checks a fetched TensorRT engine before it is put in place: a plan that TensorRT would refuse to
 * load (another version, or not a plan at all) is better refused at fetch time, with the reason,
 * than at the client's first inference. The header layout (DESIGN.md): bytes 0..3 `ftrt`
 * (uint32 0x74727466 little-endian), 4..7 the serialization version (0 for TensorRT >= 8.6),
 * 24..27 the TensorRT major, minor, patch and build that made the plan.
 *
 * The worker's toolchain checks the same header on publish; once it has a shared reader
 * (src/worker/toolchains/tensorrt/plan-header.ts), `readPlanHeader` here can become a re-export.
 */
import { open } from 'node:fs/promises';

export const PLAN_MAGIC = 0x74727466; // 'ftrt' read as a little-endian uint32
export const PLAN_HEADER_BYTES = 28;

export interface PlanHeader {
  magic: number;
  serializationVersion: number;
  /** [major, minor, patch, build] of the TensorRT that built the plan. */
  trtVersion: [number, number, number, number];
}

export class PlanHeaderError extends Error {
  override name = 'PlanHeaderError';
}

/** Reads the header from the first bytes of a plan; throws PlanHeaderError when it is not one. */
export function readPlanHeader(bytes: Buffer, name = 'the plan'): PlanHeader {
  if (bytes.length < PLAN_HEADER_BYTES) {
    throw new PlanHeaderError(`Expected a TensorRT plan of at least ${PLAN_HEADER_BYTES} bytes for ${name} but received ${bytes.length}`);
  }
  const magic = bytes.readUInt32LE(0);
  if (magic !== PLAN_MAGIC) {
    throw new PlanHeaderError(`Expected a TensorRT plan starting with "ftrt" for ${name} but received ${JSON.stringify(bytes.subarray(0, 4).toString('latin1'))}`);
  }
  return {
    magic,
    serializationVersion: bytes.readUInt32LE(4),
    trtVersion: [bytes[24], bytes[25], bytes[26], bytes[27]],
  };
}

/**
 * Checks that the plan in `file` was made by TensorRT `expected` (major.minor.patch, or with a
 * build number as a fourth part) with serialization version 0.
 */
export async function checkPlanFile(file: string, expected: string, name = file): Promise<PlanHeader> {
  const wanted = expected.split('.').map(Number);
  if (wanted.length < 3 || wanted.length > 4 || wanted.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new PlanHeaderError(`Expected a TensorRT version as major.minor.patch (e.g. 10.9.0) but received "${expected}"`);
  }
  const handle = await open(file, 'r');
  let bytes: Buffer;
  try {
    const buffer = Buffer.alloc(PLAN_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PLAN_HEADER_BYTES, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const header = readPlanHeader(bytes, name);
  if (header.serializationVersion !== 0) {
    throw new PlanHeaderError(`Expected serialization version 0 (TensorRT >= 8.6) in ${name} but received ${header.serializationVersion}`);
  }
  const made = header.trtVersion.slice(0, wanted.length);
  if (made.some((n, i) => n !== wanted[i])) {
    throw new PlanHeaderError(`Expected a plan made by TensorRT ${expected} for ${name} but received one made by TensorRT ${header.trtVersion.join('.')}; TensorRT refuses to load it`);
  }
  return header;
}
