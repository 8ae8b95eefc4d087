/**
 * The INT8 calibration caches in the store: uploaded like models (POST /v1/calibration-caches),
 * stored once by their sha256 (`calibrationKey`). Size and date come from the stored object and the
 * header from its first line, so the store alone describes every cache; nothing about them is kept
 * in Redis. The file format itself is src/core/tensorrt/calibration-cache.ts.
 */
import { parseCalibrationHeader, type CalibrationHeader } from '../core/tensorrt/calibration-cache';
import type { ArtifactStore } from './artifact-store';
import { NotFoundError } from './errors';
import { CALIBRATION_PREFIX, calibrationKey } from './layout';

const HOW_TO_UPLOAD = 'upload it with POST /v1/calibration-caches (kiln calibration push FILE)';

export interface CalibrationListing extends CalibrationHeader {
  sha256: string;
  sizeBytes: number;
  uploadedAt: string;
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
