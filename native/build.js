#!/usr/bin/env node
'use strict';
/*
 * Builds the NVML addon (build/Release/kiln_nvml.node) at `npm install` time.
 *
 * Kiln must install and run CPU-only where the addon cannot build (no compiler, no Python, not
 * Linux), so a failed build prints a warning, leaves its log in build/kiln-nvml-build.log for the
 * loader to point at, and exits 0. A build that works prints one line: node-gyp's thirty lines of
 * progress go to the same log, because nothing in them asks anything of the person installing.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build');
const logFile = path.join(buildDir, 'kiln-nvml-build.log');

/** node-gyp ships inside npm; npm tells its scripts where (npm_config_node_gyp). */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package here; npm's copy is enough
  }
  return candidates.find((candidate) => candidate && fs.existsSync(candidate));
}

/**
 * node-gyp downloads Node's headers unless told where they are. Node installs them beside itself
 * (<prefix>/include/node), so point node-gyp there: the build then works offline.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const headers = path.join(prefix, 'include', 'node');
  const complete = ['node_api.h', 'common.gypi'].every((file) => fs.existsSync(path.join(headers, file)));
  return complete ? [`--nodedir=${prefix}`] : [];
}

/** Ignores build/ from git without editing the repository's .gitignore. */
function ignoreBuildDir() {
  fs.mkdirSync(buildDir, { recursive: true });
  fs.writeFileSync(path.join(buildDir, '.gitignore'), '# written by native/build.js\n*\n');
}

/** What to do about the failure, read from node-gyp's output. */
function hints(output) {
  const found = [];
  if (/Could not find any Python|gyp ERR! find Python/.test(output)) {
    found.push('node-gyp needs Python 3 (Debian/Ubuntu: apt-get install -y python3).');
  }
  if (/No such file or directory: '[^']*(?:c\+\+|g\+\+|gcc|clang|cc)'|\b(?:c\+\+|g\+\+|gcc|cc|make): (?:command )?not found|not found: make/.test(output)) {
    found.push('node-gyp needs a C++ compiler and make (Debian/Ubuntu: apt-get install -y build-essential).');
  }
  if (/\b(?:ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN)\b|network connectivity/.test(output)) {
    found.push("node-gyp could not download Node's headers: install them (e.g. Debian's libnode-dev) and run `npm config set nodedir <prefix>` (the folder holding include/node).");
  }
  if (found.length === 0) {
    found.push('Install a C++ compiler, make and Python 3 (Debian/Ubuntu: apt-get install -y build-essential python3).');
  }
  return found;
}

/** The first line of a log written after a build that worked (the loader tells the two apart by it). */
const BUILT = 'kiln: the NVML addon was built';

function writeLog(headline, output) {
  ignoreBuildDir();
  fs.writeFileSync(logFile, [headline, `date: ${new Date().toISOString()}`, '', output].join('\n'));
}

const shownLog = () => path.relative(process.cwd(), logFile) || logFile;

/** The compiler's or node-gyp's own error lines, so the warning shows the cause without the noise. */
function errorLines(output) {
  return output
    .split('\n')
    .filter((line) => /\berror\b|gyp ERR! (?:stack Error|find Python)/i.test(line) && !/gyp ERR! (?:cwd|node -v|node-gyp -v|not ok|System|command)/.test(line))
    .slice(0, 5);
}

function warn(reason, output) {
  writeLog(`kiln: the NVML addon could not be built: ${reason}`, output);
  const lines = [
    '',
    `kiln: WARNING: the NVML addon (GPU discovery and telemetry) could not be built: ${reason}`,
    ...errorLines(output).map((line) => `kiln:   ${line.trim()}`),
    'kiln: Kiln is installed and runs CPU-only; GPU workers need the addon.',
    `kiln: The build log is in ${shownLog()}.`,
    ...hints(output).map((hint) => `kiln: ${hint}`),
    "kiln: Then run `npm run install` in Kiln's checkout (or `npm rebuild kiln` where Kiln is a dependency).",
    '',
  ];
  process.stderr.write(lines.join('\n'));
}

function main() {
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    warn('node-gyp was not found (it ships with npm; run this through `npm run install`)', '');
    return;
  }
  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedirArgs()], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) {
    const reason = result.error ? result.error.message : `node-gyp rebuild exited with code ${result.status ?? result.signal}`;
    warn(reason, output);
    return;
  }
  writeLog(BUILT, output);
  process.stdout.write(`kiln: built the NVML addon (build/Release/kiln_nvml.node); node-gyp's output is in ${shownLog()}\n`);
}

try {
  main();
} catch (err) {
  warn(err && err.message ? err.message : String(err), err && err.stack ? err.stack : '');
}
