/**
 * What `kiln fetch` without --target/--cc/--trt finds about the machine it runs on: the platform,
 * the first GPU NVML sees (Kiln's addon, src/native), the TensorRT version of an installed
 * trtexec (its banner, `[TensorRT v100900]`) or, failing that, of a `libnvinfer.so.X.Y.Z` next to
 * it, and the machine's CPU target (its ISA, as a worker would build for it, with the ONNX Runtime
 * Kiln is installed with): the artifact a client without a GPU falls back to. What it cannot tell
 * it says, with the flag to pass instead.
 */
import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cpuTargetFor, detectCpu } from '../core/cpu';
import { onnxRuntimeVersion } from '../core/onnxruntime-version';
import { platformOf, UnsupportedPlatformError, type Platform } from '../core/platform';
import { targetKey } from '../core/target';
import { decodeBannerVersion, formatTrtVersion } from '../core/tensorrt/version';
import { listGpus, type NvmlAddon } from '../native';

const run = promisify(execFile);

export interface LocalClient {
  platform: Platform | null;
  gpu: { index: number; name: string; cc: string; sku: string } | null;
  trt: { version: string; from: string } | null;
  /** This machine's ONNX Runtime target, e.g. `ort1.22.0-x86_64-avx2`, and the CPU it was read from. */
  cpu: { targetKey: string; model: string } | null;
  /** One line per fact that could not be found, and why. */
  missing: string[];
}

export interface LocalClientOptions {
  /** NVML library to load. (Default: libnvidia-ml.so.1) */
  nvmlLibrary?: string;
  /** Where to look for trtexec. (Default: process.env.PATH) */
  searchPath?: string;
  /** Directories with libnvinfer. (Default: the TensorRT container's and Debian's) */
  libraryDirs?: string[];
  /** A loaded NVML addon (a bundled probe passes its own). (Default: the one beside Kiln) */
  addon?: NvmlAddon;
  /** Where to read the CPU's features. (Default: /proc/cpuinfo) */
  cpuinfoPath?: string;
}

const TRTEXEC_FALLBACK = '/usr/src/tensorrt/bin/trtexec';
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/local/tensorrt/lib', '/usr/src/tensorrt/lib'];
const BANNER = /\[TensorRT v(\d+)\]/;
const LIBNVINFER = /^libnvinfer\.so\.(\d+\.\d+\.\d+)$/;

export async function detectLocalClient(options: LocalClientOptions = {}): Promise<LocalClient> {
  const missing: string[] = [];
  let platform: Platform | null = null;
  try {
    platform = platformOf();
  } catch (err) {
    if (!(err instanceof UnsupportedPlatformError)) throw err;
    missing.push(err.message);
  }
  let gpu: LocalClient['gpu'] = null;
  try {
    const gpus = await listGpus({ library: options.nvmlLibrary, addon: options.addon });
    const first = gpus[0];
    if (!first) missing.push('no GPU: NVML works but sees none');
    else if (!first.cc) missing.push(`GPU 0 (${first.name}): NVML did not report its compute capability`);
    else gpu = { index: first.index, name: first.name, cc: first.cc, sku: first.sku };
  } catch (err) {
    missing.push(`no GPU: ${(err as Error).message}`);
  }
  const trt = await findTensorRt(options, missing);
  let cpu: LocalClient['cpu'] = null;
  try {
    const info = detectCpu(options.cpuinfoPath);
    cpu = { targetKey: targetKey(cpuTargetFor(onnxRuntimeVersion(), info, platform ?? undefined)), model: info.model };
  } catch (err) {
    missing.push(`no CPU target: ${(err as Error).message}`);
  }
  return { platform, gpu, trt, cpu, missing };
}

async function findTensorRt(options: LocalClientOptions, missing: string[]): Promise<LocalClient['trt']> {
  const dirs = (options.searchPath ?? process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [...dirs.map((dir) => path.join(dir, 'trtexec')), TRTEXEC_FALLBACK];
  for (const file of candidates) {
    if (!(await access(file).then(() => true, () => false))) continue;
    // trtexec with no arguments prints its banner and usage, and exits non-zero.
    const output = await run(file, [], { timeout: 10_000 }).then(
      (r) => r.stdout,
      (err: { stdout?: string }) => err.stdout ?? '',
    );
    const banner = BANNER.exec(output);
    if (banner) return { version: formatTrtVersion(decodeBannerVersion(Number(banner[1]))), from: file };
    for (const dir of [path.join(path.dirname(file), '..', 'lib'), ...(options.libraryDirs ?? LIBRARY_DIRS)]) {
      const version = await libnvinferVersion(dir);
      if (version) return { version, from: path.join(dir, `libnvinfer.so.${version}`) };
    }
  }
  for (const dir of options.libraryDirs ?? LIBRARY_DIRS) {
    const version = await libnvinferVersion(dir);
    if (version) return { version, from: path.join(dir, `libnvinfer.so.${version}`) };
  }
  missing.push(`no TensorRT: no trtexec on the PATH or at ${TRTEXEC_FALLBACK}, and no libnvinfer.so.X.Y.Z in ${(options.libraryDirs ?? LIBRARY_DIRS).join(', ')}`);
  return null;
}

async function libnvinferVersion(dir: string): Promise<string | null> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = LIBNVINFER.exec(name);
    if (m) return m[1];
  }
  return null;
}

/** One line saying what was found, for `kiln fetch` to print before it asks. */
export function describeLocalClient(found: LocalClient): string {
  const gpu = found.gpu ? `${found.gpu.name} (CC ${found.gpu.cc}, ${found.gpu.sku})` : 'no GPU';
  const trt = found.trt ? `TensorRT ${found.trt.version} (${found.trt.from})` : 'no TensorRT';
  const cpu = found.cpu ? `, CPU target ${found.cpu.targetKey}` : '';
  return `found: ${gpu}, ${trt}, platform ${found.platform ?? 'unknown'}${cpu}`;
}
