/**
 * Regenerates src/core/tensorrt/trtexec-releases.json, the per-release trtexec contract, from a
 * clone of NVIDIA/TensorRT: every `release/X.Y` branch from 8.6 on (and patch branches
 * `release/X.Y.Z` whose parser differs from their minor's), read with `git show`, no checkout.
 * See docs/trtexec-contract.md for the table's format and the method.
 *
 *   node --import tsx scripts/trtexec-contract/extract.ts <path-to-TensorRT-clone> [--check]
 *   npm run trtexec-contract -- /path/to/TensorRT [--check]
 *
 * --check regenerates in memory and exits 1 with a summary of the differences when the committed
 * file is not what the sources say.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FILES, readRelease, type Release } from './release';

const OUTPUT = path.join(__dirname, '..', '..', 'src', 'core', 'tensorrt', 'trtexec-releases.json');
/** The oldest release Kiln supports; older branches are not read. */
const OLDEST = [8, 6];

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const repo = argv.find((a) => !a.startsWith('--'));
  if (!repo) {
    process.stderr.write('Expected the path of a NVIDIA/TensorRT clone, e.g. extract.ts ~/src/TensorRT [--check]\n');
    return 2;
  }
  const text = render(generate(repo));
  if (!check) {
    writeFileSync(OUTPUT, text);
    process.stdout.write(`wrote ${path.relative(process.cwd(), OUTPUT)}\n`);
    return 0;
  }
  let committed: unknown;
  try {
    committed = JSON.parse(readFileSync(OUTPUT, 'utf8'));
  } catch (err) {
    process.stderr.write(`Expected ${OUTPUT} to hold the committed table but could not read it: ${(err as Error).message}\n`);
    return 1;
  }
  const differences = diff(committed, JSON.parse(text), '');
  if (differences.length === 0 && readFileSync(OUTPUT, 'utf8') === text) {
    process.stdout.write(`${path.relative(process.cwd(), OUTPUT)} matches the sources\n`);
    return 0;
  }
  process.stderr.write(`${path.relative(process.cwd(), OUTPUT)} differs from what the sources say (${differences.length || 'formatting only'}):\n`);
  for (const line of differences.slice(0, 40)) process.stderr.write(`  ${line}\n`);
  if (differences.length > 40) process.stderr.write(`  ... and ${differences.length - 40} more\n`);
  process.stderr.write('Run without --check to regenerate it.\n');
  return 1;
}

interface Branch {
  version: string;
  ref: string;
  name: string;
  parts: number[];
}

/** Release branches from 8.6 on (local, as in a mirror, or remote-tracking, as in a clone), by version. */
function branches(repo: string): Branch[] {
  const refs = git(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/release/', 'refs/remotes/']).split('\n');
  const found = new Map<string, Branch>();
  for (const ref of refs) {
    const m = /^refs\/(?:heads|remotes\/[^/]+)\/(release\/((\d+)\.(\d+)(?:\.(\d+))?))$/.exec(ref);
    if (!m) continue;
    const parts = m[2].split('.').map(Number);
    if (parts[0] < OLDEST[0] || (parts[0] === OLDEST[0] && parts[1] < OLDEST[1])) continue;
    // NVIDIA's branch as last fetched (refs/remotes/origin/...) wins over a local branch of the same name.
    if (!found.has(m[2]) || ref.startsWith('refs/remotes/origin/')) found.set(m[2], { version: m[2], ref, name: m[1], parts });
  }
  return [...found.values()].sort((a, b) => compare(a.parts, b.parts));
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function generate(repo: string) {
  const releases: Record<string, Release & { patchBranches?: Record<string, { branch: string; commit: string }> }> = {};
  for (const b of branches(repo)) {
    const commit = git(repo, ['rev-parse', `${b.ref}^{commit}`]).trim();
    const show = (file: string) => {
      try {
        return git(repo, ['show', `${commit}:${file}`]);
      } catch {
        return undefined;
      }
    };
    let release: Release;
    try {
      release = readRelease(b.version, b.name, commit, show);
    } catch (err) {
      throw new Error(`${b.name} (${commit.slice(0, 10)}): ${(err as Error).message}`);
    }
    const minor = b.parts.slice(0, 2).join('.');
    if (b.parts.length === 3 && releases[minor] && sameContract(releases[minor], release)) {
      // A patch branch whose parser says the same as its minor's: noted there, not repeated.
      releases[minor].patchBranches = { ...releases[minor].patchBranches, [b.version]: { branch: b.name, commit } };
      continue;
    }
    releases[b.version] = release;
  }
  return {
    about:
      "trtexec's command line per TensorRT release, read from NVIDIA/TensorRT's sources (facts with the file and line each comes from). Generated; do not edit. See docs/trtexec-contract.md.",
    generator: 'scripts/trtexec-contract/extract.ts',
    repository: 'https://github.com/NVIDIA/TensorRT',
    files: Object.values(FILES),
    releases,
  };
}

/** Same facts apart from where they were read (line numbers move when unrelated code changes). */
function sameContract(a: Release & { patchBranches?: unknown }, b: Release): boolean {
  const facts = (r: Release) => JSON.stringify(sortKeys({ ...r, branch: '', commit: '', patchBranches: undefined }), (key, value) => (key === 'source' || /Source$/.test(key) || key === 'gate' || key === 'hostCodeAllowed' || key === 'passedFrom' ? undefined : value));
  return facts(a) === facts(b);
}

function git(repo: string, args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

// ---------------------------------------------------------------------------------------------
// Stable output: keys sorted, two-space indent, objects of plain values on one line when short.

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function render(value: unknown): string {
  return `${format(sortKeys(value), '')}\n`;
}

function format(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const flat = value === null || typeof value !== 'object' || Object.values(value).every((v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object')));
  const inline = flat ? oneLine(value) : '';
  if (flat && inline.length + indent.length <= 140) return inline;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`);
  return entries.length === 0 ? '{}' : `{\n${entries.join(',\n')}\n${indent}}`;
}

function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`).join(', ')} }`;
  return JSON.stringify(value);
}

/** Paths where two JSON values differ, e.g. `releases.10.9.options.--fp16: only in the sources`. */
function diff(a: unknown, b: unknown, at: string): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: string[] = [];
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const here = at ? `${at}.${key}` : key;
      const x = (a as Record<string, unknown>)[key];
      const y = (b as Record<string, unknown>)[key];
      if (x === undefined) out.push(`${here}: only in the sources`);
      else if (y === undefined) out.push(`${here}: only in the committed file`);
      else out.push(...diff(x, y, here));
    }
    return out;
  }
  return [`${at}: committed ${JSON.stringify(a)?.slice(0, 80)}, sources say ${JSON.stringify(b)?.slice(0, 80)}`];
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
