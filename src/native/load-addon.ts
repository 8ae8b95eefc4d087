/**
 * Finds and loads the compiled addon, as sharp does: try each candidate binary in order, collect
 * every failure, and throw one NativeAddonError that says what failed and how to fix it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeAddonError, type AddonLoadFailure } from './errors';
import type { NvmlAddon } from './types';

export const ADDON_FILE = 'kiln_nvml.node';

/** Kiln's root: this file is src/native/ (tsx, ts-jest) or dist/native/ (compiled). */
const ROOT = path.resolve(__dirname, '..', '..');

/** Where native/build.js leaves its log (node-gyp's output, and whether the build worked). */
export const BUILD_LOG = path.join(ROOT, 'build', 'kiln-nvml-build.log');

export function defaultAddonCandidates(): string[] {
  return [path.join(ROOT, 'build', 'Release', ADDON_FILE), path.join(ROOT, 'build', 'Debug', ADDON_FILE)];
}

/** Loads the first candidate that works; throws NativeAddonError listing why each failed. */
export function loadAddon(candidates: string[] = defaultAddonCandidates(), buildLog: string = BUILD_LOG): NvmlAddon {
  const failures: AddonLoadFailure[] = [];
  for (const candidate of candidates) {
    try {
      return loadOne(candidate);
    } catch (err) {
      failures.push({ path: candidate, reason: (err as Error).message });
    }
  }
  throw new NativeAddonError(helpFor(failures, buildLog), failures);
}

let loaded: NvmlAddon | undefined;

/** The default addon, loaded once; a failure is not remembered, so a rebuild is picked up. */
export function nvmlAddon(): NvmlAddon {
  loaded ??= loadAddon();
  return loaded;
}

function loadOne(file: string): NvmlAddon {
  if (!fs.existsSync(file)) throw new Error('not found');
  const module = { exports: {} as Record<string, unknown> };
  // process.dlopen rather than require: the file is a native module, never JS, and jest's module
  // registry need not know about it.
  process.dlopen(module, file, os.constants.dlopen.RTLD_NOW);
  for (const name of ['listGpus', 'gpuTelemetry']) {
    if (typeof module.exports[name] !== 'function') {
      throw new Error(`it does not export ${name}(): built from another version of Kiln?`);
    }
  }
  return module.exports as unknown as NvmlAddon;
}

/** native/build.js keeps its log after a build that worked too; its first line says which it was. */
function buildLogLine(buildLog: string): string {
  const built = fs.readFileSync(buildLog, 'utf8').startsWith('kiln: the NVML addon was built');
  return built ? `It was built at install time (the build log is ${buildLog}) but does not load now` : `Building it at install time failed; the build log is ${buildLog}`;
}

function helpFor(failures: AddonLoadFailure[], buildLog: string): string {
  const runtime = `${process.platform}-${process.arch}, Node.js ${process.version} (N-API ${process.versions.napi})`;
  const help = [`Could not load Kiln's NVML addon (${ADDON_FILE}) on ${runtime}:`];
  for (const failure of failures) help.push(`- ${failure.path}: ${failure.reason}`);
  if (fs.existsSync(buildLog)) help.push(buildLogLine(buildLog));
  help.push('Kiln runs CPU-only without the addon; GPU workers need it.');
  const reasons = failures.map((failure) => failure.reason).join(' ');

  help.push(
    'Possible solutions:',
    "- Build the addon, in Kiln's checkout:",
    '    npm run install',
    '- Rebuild it where Kiln is installed as a dependency:',
    '    npm rebuild kiln',
    '- Install what node-gyp needs to compile it (Debian/Ubuntu), then build again:',
    '    apt-get install -y build-essential python3',
  );
  if (/invalid ELF header|file too short|wrong ELF class|ELF file|undefined symbol|GLIBC|CXXABI/.test(reasons)) {
    help.push('- A binary is damaged or was built for another system: delete it and build again here:', '    rm -rf build && npm run install');
  }
  if (/ERR_DLOPEN_DISABLED|--no-addons/.test(reasons)) {
    help.push('- Run Node.js without the --no-addons flag');
  }
  return help.join('\n');
}
