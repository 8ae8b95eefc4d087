/**
 * The worker's copy of the INT8 calibration cache a build names (`options.tensorrt.calibration`),
 * put in the work dir for `--calib`. The file format is src/core/tensorrt/calibration-cache.ts, the
 * stored caches src/storage/calibration-caches.ts.
 */
import { CalibrationCacheError, checkCalibrationCache, type CalibrationCacheInfo } from '../../../core/tensorrt/calibration-cache';
import type { ArtifactStore } from '../../../storage/artifact-store';
import { missingCalibrationMessage } from '../../../storage/calibration-caches';
import { NotFoundError } from '../../../storage/errors';
import { calibrationKey } from '../../../storage/layout';
import { downloadToFile } from '../../../storage/publish';
import { BuildInputError } from '../toolchain';

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
