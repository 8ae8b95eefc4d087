/**
 * Where everything lives in the store, in one place:
 *
 *   models/<sha256>.onnx                      an uploaded model, stored once by its content
 *   models/<sha256>.json                      what Kiln knows about it (names, parsed info)
 *   builds/<buildKey>/manifest.json           an artifact set, published when this exists
 *   blobs/<sha256>                            a file of one or more artifact sets, stored once by its content
 *   builds/<buildKey>/<sha256>/<file>         files of sets published before blobs existed (still read)
 *   timing-caches/trt<version>-[<platform>-]sm<cc>-<sku>.cache
 *                                             the fleet timing cache of one TensorRT version, platform,
 *                                             CC and GPU SKU (core/timing-cache.ts); without a SKU, a
 *                                             CC-wide cache from before per-SKU caches (read only)
 *   calibration/<sha256>.cache                an uploaded INT8 calibration cache, stored once by its content
 *   inputs/<sha256>.json                      uploaded validation input tensors, stored once by their content
 *   keys/<keyid>.json                         a public key that signed provenance, kept after rotation
 *   requests/<id>.json                        an accepted request, journaled before its builds are queued
 *
 * Files of an artifact set are keyed by their sha256 as well as their name because two workers
 * can build the same build key (a stalled job run again while its first worker still finishes):
 * engines are not bit-identical between builds, and with plain names the second worker would
 * overwrite files that the first worker's manifest already lists. With content in the key, every
 * manifest, whichever one wins, lists files that are exactly what it says.
 *
 * Sets published now keep their files in `blobs/`, keyed by content alone, so the same bytes made
 * by two build keys (an optimised model, a log-less cache) are stored once; a manifest marks such
 * files `blob: true`. What may delete a blob, and when, is docs/cleanup.md's subject.
 */
import { SHA256_HEX } from '../core/hash';
import { MANIFEST_FILE, type Manifest, type ManifestFile } from '../core/manifest';
import { TargetParseError } from '../core/target';
import { parseTimingCacheName, timingCacheName, type TimingCacheScope } from '../core/timing-cache';
import { InvalidKeyError } from './errors';

const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_FILE_NAME = 255;
const VERSION = /^\d+\.\d+\.\d+$/;
const CC = /^\d{1,2}\.\d$/;

export const MODELS_PREFIX = 'models/';
export const BUILDS_PREFIX = 'builds/';
export const TIMING_CACHES_PREFIX = 'timing-caches/';
export const CALIBRATION_PREFIX = 'calibration/';
export const BLOBS_PREFIX = 'blobs/';
export const INPUTS_PREFIX = 'inputs/';
export const KEYS_PREFIX = 'keys/';
export const REQUESTS_PREFIX = 'requests/';
/** Overwritten by the API's health check and a paused worker's probe: is the store writable? */
export const PROBE_KEY = 'health/probe';
const TIMING_CACHE_EXT = '.cache';

export function modelKey(sha256: string): string {
  return `${MODELS_PREFIX}${hex(sha256, 'a model sha256')}.onnx`;
}

/**
 * The journal of an accepted request: Redis can lose its records (a restart without persistence),
 * storage is the truth, so every accepted build can be found again (docs/recovery.md).
 */
export function requestKey(id: string): string {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new InvalidKeyError(`Expected a request id (a UUID) but received ${JSON.stringify(id)}`);
  return `${REQUESTS_PREFIX}${id}.json`;
}

export function modelInfoKey(sha256: string): string {
  return `${MODELS_PREFIX}${hex(sha256, 'a model sha256')}.json`;
}

/** Everything of one artifact set, published or not, starts with this. */
export function buildPrefix(buildKey: string): string {
  return `${BUILDS_PREFIX}${hex(buildKey, 'a build key')}/`;
}

export function manifestKey(buildKey: string): string {
  return buildPrefix(buildKey) + MANIFEST_FILE;
}

/** `blobs/<sha256>`: a file stored once by its content, whichever artifact sets list it. */
export function blobKey(sha256: string): string {
  return `${BLOBS_PREFIX}${hex(sha256, 'a blob sha256')}`;
}

/** The key of one file of an artifact set, as its manifest lists it (in blobs/, or under the build for older sets). */
export function artifactKey(buildKey: string, file: Pick<ManifestFile, 'name' | 'sha256' | 'blob'>): string {
  assertValidFileName(file.name);
  if (file.blob) return blobKey(file.sha256);
  return `${buildPrefix(buildKey)}${hex(file.sha256, `the sha256 of ${file.name}`)}/${file.name}`;
}

/** The key of a file a manifest lists, by name (Default: its primary file). */
export function manifestFileKey(manifest: Manifest, name: string = manifest.primary): string {
  const file = manifest.files.find((f) => f.name === name);
  if (!file) {
    throw new InvalidKeyError(
      `Expected one of ${manifest.files.map((f) => f.name).join(', ')} in artifact set ${manifest.buildKey} but received ${JSON.stringify(name)}`,
    );
  }
  return artifactKey(manifest.buildKey, file);
}

/**
 * `timingCacheKey({ trt: '10.9.0', cc: '8.9', sku: 'nvidia-l4' })` =
 * `timing-caches/trt10.9.0-sm89-nvidia-l4.cache`; InvalidKeyError naming what is accepted.
 */
export function timingCacheKey(scope: TimingCacheScope): string {
  if (!VERSION.test(scope.trt)) {
    throw new InvalidKeyError(`Expected a TensorRT version as major.minor.patch (e.g. 10.9.0) but received ${JSON.stringify(scope.trt)}`);
  }
  if (!CC.test(scope.cc)) {
    throw new InvalidKeyError(`Expected a compute capability as major.minor (e.g. 8.9) but received ${JSON.stringify(scope.cc)}`);
  }
  try {
    return `${TIMING_CACHES_PREFIX}${timingCacheName(scope)}${TIMING_CACHE_EXT}`;
  } catch (err) {
    if (err instanceof TargetParseError) throw new InvalidKeyError(err.message);
    throw err;
  }
}

/** The scope of a timing-cache key; null for any other key (a cache's history, say). */
export function parseTimingCacheKey(key: string): TimingCacheScope | null {
  if (!key.startsWith(TIMING_CACHES_PREFIX) || !key.endsWith(TIMING_CACHE_EXT)) return null;
  return parseTimingCacheName(key.slice(TIMING_CACHES_PREFIX.length, -TIMING_CACHE_EXT.length));
}

/** `calibrationKey(sha)` = `calibration/<sha>.cache`: an INT8 calibration cache, by its content. */
export function calibrationKey(sha256: string): string {
  return `${CALIBRATION_PREFIX}${hex(sha256, 'a calibration cache sha256')}.cache`;
}

/** `inputsKey(sha)` = `inputs/<sha>.json`: validation input tensors uploaded with POST /v1/inputs. */
export function inputsKey(sha256: string): string {
  return `${INPUTS_PREFIX}${hex(sha256, 'an inputs sha256')}.json`;
}

/** `signingKeyKey(id)` = `keys/<id>.json`: a farm public key (docs/provenance.md), by its key id. */
export function signingKeyKey(keyid: string): string {
  return `${KEYS_PREFIX}${hex(keyid, 'a key id')}.json`;
}

/** File names inside an artifact set: `[A-Za-z0-9._-]`, not starting with a dot. */
export function assertValidFileName(name: string): void {
  if (typeof name !== 'string' || name.length > MAX_FILE_NAME || !FILE_NAME.test(name)) {
    throw new InvalidKeyError(
      `Expected a file name of [A-Za-z0-9._-] not starting with '.', at most ${MAX_FILE_NAME} characters, but received ${JSON.stringify(name)}`,
    );
  }
}

function hex(value: string, what: string): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) {
    throw new InvalidKeyError(`Expected ${what} (64 lower-case hex digits) but received ${JSON.stringify(value)}`);
  }
  return value;
}
