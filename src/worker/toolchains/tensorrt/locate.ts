/**
 * Finding trtexec and learning its TensorRT version from trtexec itself: `trtexec --help` prints
 * the banner `&&&& RUNNING TensorRT.trtexec [TensorRT v100900] [b34] # trtexec --help` before the
 * help text and needs no GPU. A worker without a usable trtexec serves no TensorRT target; the
 * reason says why, for its registration and logs.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { parseBanner } from './log-parser';
import { releaseFor } from '../../../core/tensorrt/trtexec-contract';
import { compareTrtVersions, MIN_TRT_VERSION } from '../../../core/tensorrt/version';

/** Where NVIDIA's containers and Debian packages install trtexec. */
export const DEFAULT_TRTEXEC_PATH = '/usr/src/tensorrt/bin/trtexec';

export interface LocateOptions {
  /** An explicit trtexec (KILN_TRTEXEC); when given, it is the only candidate. (Default: none) */
  explicitPath?: string;
  /** The PATH to search, as the environment spells it. (Default: none, PATH is not searched) */
  searchPath?: string;
  /** Tried after PATH. (Default: [DEFAULT_TRTEXEC_PATH]) */
  fallbackPaths?: string[];
  /** How long `trtexec --help` may take, in ms. (Default: 20000) */
  timeoutMs?: number;
}

export interface TrtexecFound {
  path: string;
  /** major.minor.patch, e.g. `10.9.0`. */
  version: string;
  /** The `[b34]` build tag, printed from TensorRT 10.4. */
  build?: number;
}

export interface TrtexecMissing {
  reason: string;
}

export type LocateResult = TrtexecFound | TrtexecMissing;

export async function locateTrtexec(options: LocateOptions = {}): Promise<LocateResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  if (options.explicitPath !== undefined) {
    const path = options.explicitPath;
    if (!isAbsolute(path)) return { reason: `KILN_TRTEXEC must be an absolute path to trtexec but is "${path}"` };
    const problem = await notExecutable(path);
    if (problem) return { reason: `KILN_TRTEXEC=${path} ${problem}` };
    return probe(path, timeoutMs);
  }
  const candidates = [
    ...(options.searchPath ?? '').split(delimiter).filter((dir) => isAbsolute(dir)).map((dir) => join(dir, 'trtexec')),
    ...(options.fallbackPaths ?? [DEFAULT_TRTEXEC_PATH]),
  ];
  for (const path of candidates) {
    if (!(await notExecutable(path))) return probe(path, timeoutMs);
  }
  const where = options.searchPath ? `on PATH (${options.searchPath}) or at ` : 'at ';
  return { reason: `no trtexec found ${where}${(options.fallbackPaths ?? [DEFAULT_TRTEXEC_PATH]).join(', ')}; install TensorRT or set KILN_TRTEXEC` };
}

export function isFound(result: LocateResult): result is TrtexecFound {
  return 'path' in result;
}

/** Null when `path` is an executable file, else what is wrong with it. */
async function notExecutable(path: string): Promise<string | null> {
  try {
    if (!(await stat(path)).isFile()) return 'is not a file';
    await access(path, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : `cannot be used (${code})`;
  }
}

async function probe(path: string, timeoutMs: number): Promise<LocateResult> {
  const { output, error } = await run(path, ['--help'], timeoutMs);
  const bannerLine = output.split(/\r?\n/).find((line) => line.startsWith('&&&& '));
  const banner = bannerLine ? parseBanner(bannerLine) : null;
  if (!banner) {
    const first = output.split(/\r?\n/).find((line) => line.trim()) ?? '';
    if (error) return { reason: `trtexec at ${path} failed to run: ${error}${first ? ` (${first.slice(0, 200)})` : ''}` };
    return { reason: `trtexec at ${path} printed no "[TensorRT vN]" banner, so its version is unknown (first line: ${JSON.stringify(first.slice(0, 200))})` };
  }
  if (compareTrtVersions(banner.trtVersion, MIN_TRT_VERSION) < 0) {
    return { reason: `trtexec at ${path} is TensorRT ${banner.trtVersion}; Kiln needs TensorRT >= ${MIN_TRT_VERSION}` };
  }
  // Kiln writes a release's command line only once it has been read from NVIDIA's sources.
  try {
    releaseFor(banner.trtVersion);
  } catch (err) {
    return { reason: `trtexec at ${path} is TensorRT ${banner.trtVersion}: ${(err as Error).message}` };
  }
  const found: TrtexecFound = { path, version: banner.trtVersion };
  if (banner.build !== undefined) found.build = banner.build;
  return found;
}

function run(path: string, args: string[], timeoutMs: number): Promise<{ output: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      if (!err) return resolve({ output });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      if (e.killed) return resolve({ output, error: `no answer within ${timeoutMs} ms` });
      // trtexec --help exits 0; other exit codes still print a banner worth reading.
      resolve({ output, error: typeof e.code === 'number' ? `exit status ${e.code}` : (e.code ?? e.message) });
    });
  });
}
