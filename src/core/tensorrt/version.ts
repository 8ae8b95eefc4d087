/**
 * TensorRT versions: parsing, comparing, and the integer trtexec prints in its banner.
 *
 * The banner `&&&& RUNNING TensorRT.trtexec [TensorRT v100900]` carries NV_TENSORRT_VERSION, which
 * is major*1000 + minor*100 + patch up to 9.x (NvInferRuntimeBase.h, kNV_TENSORRT_VERSION_IMPL in
 * release/8.6 and release/9.3) and major*10000 + minor*100 + patch from 10.0 (NvInferRuntimeBase.h,
 * NV_TENSORRT_VERSION_INT in release/10.x): v8601 is 8.6.1, v100900 is 10.9.0, v101601 is 10.16.1.
 */

export interface TrtVersion {
  major: number;
  minor: number;
  patch: number;
  /** The fourth number (8.6.1.6); absent when only major.minor.patch is known. */
  build?: number;
}

/** The oldest TensorRT whose trtexec command line Kiln maps (the 8.6 options are the baseline). */
export const MIN_TRT_VERSION = '8.6.0';

const VERSION = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,5}))?$/;

/** `10.9`, `10.9.0`, `8.6.1.6` -> TrtVersion; throws on anything else. */
export function parseTrtVersion(text: string): TrtVersion {
  const m = VERSION.exec(text.trim());
  if (!m) throw new Error(`Expected a TensorRT version like 10.9.0 or 8.6.1.6 but received "${text}"`);
  const version: TrtVersion = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
  if (m[4] !== undefined) version.build = Number(m[4]);
  return version;
}

/** `10.9.0` (or `10.9.0.34` with the build number). */
export function formatTrtVersion(v: TrtVersion, withBuild = false): string {
  const base = `${v.major}.${v.minor}.${v.patch}`;
  return withBuild && v.build !== undefined ? `${base}.${v.build}` : base;
}

/** Compares major.minor.patch only; -1, 0 or 1. */
export function compareTrtVersions(a: TrtVersion | string, b: TrtVersion | string): number {
  const x = typeof a === 'string' ? parseTrtVersion(a) : a;
  const y = typeof b === 'string' ? parseTrtVersion(b) : b;
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (x[key] !== y[key]) return x[key] < y[key] ? -1 : 1;
  }
  return 0;
}

export function trtAtLeast(version: TrtVersion | string, minimum: string): boolean {
  return compareTrtVersions(version, minimum) >= 0;
}

/** The banner integer: 8601 -> 8.6.1, 100900 -> 10.9.0. */
export function decodeBannerVersion(n: number): TrtVersion {
  if (!Number.isInteger(n) || n < 1000) throw new Error(`Expected a TensorRT banner version like 8601 or 100900 but received ${n}`);
  if (n >= 100000) return { major: Math.floor(n / 10000), minor: Math.floor(n / 100) % 100, patch: n % 100 };
  return { major: Math.floor(n / 1000), minor: Math.floor((n % 1000) / 100), patch: n % 100 };
}

/** The inverse of decodeBannerVersion, for the stand-in and tests. */
export function encodeBannerVersion(v: TrtVersion | string): number {
  const x = typeof v === 'string' ? parseTrtVersion(v) : v;
  return x.major >= 10 ? x.major * 10000 + x.minor * 100 + x.patch : x.major * 1000 + x.minor * 100 + x.patch;
}

/** Compute capability `8.9` -> 89 for comparisons; throws on a malformed value. */
export function ccNumber(cc: string): number {
  const m = /^(\d{1,2})\.(\d)$/.exec(cc);
  if (!m) throw new Error(`Expected a compute capability like 8.9 but received "${cc}"`);
  return Number(m[1]) * 10 + Number(m[2]);
}
