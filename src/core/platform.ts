/**
 * Platforms: the OS and CPU architecture an artifact runs on. TensorRT engines and optimised ONNX
 * Runtime models are not portable across them (docs/platforms.md), so every target has one.
 *
 * A target (or target key) that names no platform is `linux-x86_64`: every artifact Kiln made
 * before platforms were part of targets was built there, and leaving the default out of keys keeps
 * those keys, and the build keys made from them, unchanged.
 */
export const PLATFORMS = ['linux-x86_64', 'linux-aarch64', 'windows-x86_64'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** What a target without a platform means. */
export const DEFAULT_PLATFORM: Platform = 'linux-x86_64';

export function isPlatform(value: unknown): value is Platform {
  return typeof value === 'string' && (PLATFORMS as readonly string[]).includes(value);
}

/** The CPU architecture a platform runs on: `linux-aarch64` -> `aarch64`. */
export function platformArch(platform: Platform): 'x86_64' | 'aarch64' {
  return platform.endsWith('aarch64') ? 'aarch64' : 'x86_64';
}

export class UnsupportedPlatformError extends Error {
  override name = 'UnsupportedPlatformError';
}

/**
 * The platform of a Node process (`process.platform`, `process.arch`); throws
 * UnsupportedPlatformError naming the supported ones for any other (macOS has no NVIDIA GPUs).
 */
export function platformOf(os: string = process.platform, arch: string = process.arch): Platform {
  const cpu = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
  const name = `${os === 'win32' ? 'windows' : os}-${cpu}`;
  if (isPlatform(name)) return name;
  throw new UnsupportedPlatformError(`Expected one of the platforms ${PLATFORMS.join(', ')} but this machine is ${os}/${arch}`);
}
