/**
 * What CPU a machine has, and which ONNX Runtime ISA target it therefore is: the target a worker
 * builds, and the one `kiln fetch` asks for on a client without a GPU.
 *
 * The ISA is chosen the way ONNX Runtime's MLAS chooses its kernels (onnxruntime/core/mlas/lib/
 * platform.cpp), because that choice is baked into an optimised model:
 *
 * - x86_64 `avx512`: `avx512f`. MLAS switches its NCHWc block size from 8 to 16 floats as soon as
 *   AVX512F is usable, and `graphOptimizationLevel: 'all'` writes that block size into the model's
 *   NCHWc layout nodes. AVX512BW/DQ/VL ("AVX512 core") only pick faster int8 kernels at run time,
 *   which do not change the artifact, so they are recorded in `flags` but not required: a machine
 *   with AVX512F alone (Knights Landing) still writes 16-float blocks and must not pose as avx2.
 *   Linux drops the avx512 flags from /proc/cpuinfo when the OS does not save ZMM state, which is
 *   the same condition MLAS checks through XCR0.
 * - x86_64 `avx2`: `avx2` and `fma` (MLAS's FMA3 kernels need both).
 * - x86_64 `baseline`: anything older (SSE/AVX kernels, 8-float blocks).
 * - aarch64 `neon`: `asimd` (Advanced SIMD is mandatory in ARMv8-A, so every arm64 Linux has it).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { platformOf, type Platform } from './platform';
import { toTarget, type CpuArch, type CpuIsa, type OnnxRuntimeTarget } from './target';

export interface CpuInfo {
  /** Marketing name, e.g. `Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz`. */
  model: string;
  /**
   * Logical processors (hardware threads): from parseCpuInfo, those listed; from detectCpu, those
   * this process may run on (os.availableParallelism honours affinity and cpusets).
   */
  cores: number;
  /** Feature flags of the first processor, sorted. */
  flags: string[];
  arch: CpuArch;
  isa: CpuIsa;
}

export class UnsupportedCpuError extends Error {
  override name = 'UnsupportedCpuError';
}

/** Node's `os.arch()` and `uname -m` spellings -> Kiln's. */
const ARCH_ALIASES: Record<string, CpuArch> = {
  x64: 'x86_64',
  x86_64: 'x86_64',
  amd64: 'x86_64',
  arm64: 'aarch64',
  aarch64: 'aarch64',
};

export function normalizeArch(arch: string): CpuArch {
  const known = ARCH_ALIASES[arch.toLowerCase()];
  if (!known) {
    throw new UnsupportedCpuError(`Expected a CPU architecture of x86_64 or aarch64 but received ${arch}`);
  }
  return known;
}

/** Picks the ISA target from the flags; see the file comment for why these flags. */
export function isaOf(arch: CpuArch, flags: ReadonlySet<string>): CpuIsa {
  if (arch === 'aarch64') {
    if (!flags.has('asimd')) {
      throw new UnsupportedCpuError('Expected an aarch64 CPU with Advanced SIMD (asimd) but its flags lack asimd');
    }
    return 'neon';
  }
  if (flags.has('avx512f')) return 'avx512';
  if (flags.has('avx2') && flags.has('fma')) return 'avx2';
  return 'baseline';
}

/**
 * Parses /proc/cpuinfo. x86 kernels write `model name` and `flags`; arm64 kernels write
 * `Features` and usually no model name (then `CPU implementer`/`CPU part` identify the core).
 */
export function parseCpuInfo(text: string, arch: string): CpuInfo {
  const cpuArch = normalizeArch(arch);
  const blocks = text
    .split(/\n\s*\n/)
    .map(parseBlock)
    .filter((fields) => fields.size > 0);
  const processors = blocks.filter((fields) => fields.has('processor'));
  const first = processors[0] ?? blocks[0] ?? new Map<string, string>();
  // Some arm64 kernels print `Features` once per processor, older ones once after all of them.
  const flagText = first.get('flags') ?? first.get('features') ?? findField(blocks, 'features') ?? '';
  const flags = [...new Set(flagText.split(/\s+/).filter(Boolean))].sort();
  const model =
    first.get('model name') ??
    findField(blocks, 'model name') ??
    findField(blocks, 'hardware') ??
    armCoreName(first) ??
    'unknown';
  return {
    model,
    cores: Math.max(processors.length, 1),
    flags,
    arch: cpuArch,
    isa: isaOf(cpuArch, new Set(flags)),
  };
}

/** Reads this machine's CPU: /proc/cpuinfo where there is one, else what `os` knows (no flags). */
export function detectCpu(cpuinfoPath = '/proc/cpuinfo'): CpuInfo {
  let text: string;
  try {
    text = readFileSync(cpuinfoPath, 'utf8');
  } catch (err) {
    throw new UnsupportedCpuError(
      `Expected to read the CPU's features from ${cpuinfoPath} but could not (${(err as Error).message}); ` +
        'the ONNX Runtime toolchain needs Linux to tell which ISA target this machine builds',
    );
  }
  const info = parseCpuInfo(text, os.arch());
  const osCpus = os.cpus();
  return {
    ...info,
    model: info.model === 'unknown' && osCpus[0] ? osCpus[0].model : info.model,
    cores: os.availableParallelism(),
  };
}

function parseBlock(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

function findField(blocks: Map<string, string>[], key: string): string | undefined {
  for (const fields of blocks) {
    const value = fields.get(key);
    if (value) return value;
  }
  return undefined;
}

/** Enough to tell cores apart in a registration when arm64 gives no model name. */
function armCoreName(fields: Map<string, string>): string | undefined {
  const implementer = fields.get('cpu implementer');
  const part = fields.get('cpu part');
  if (!implementer || !part) return undefined;
  return `ARM implementer ${implementer} part ${part}`;
}

/** The target of `cpu` with ONNX Runtime `ort` on `platform` (Default: this machine's), the default platform left out as in keys. */
export function cpuTargetFor(ort: string, cpu: Pick<CpuInfo, 'arch' | 'isa'>, platform: Platform = platformOf()): OnnxRuntimeTarget {
  return toTarget({ toolchain: 'onnxruntime', ort, arch: cpu.arch, isa: cpu.isa, platform }) as OnnxRuntimeTarget;
}
