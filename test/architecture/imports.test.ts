/**
 * The flow of the house, kept by a test: api -> queue -> worker -> toolchain -> storage, with
 * shared domain knowledge in src/core. Nothing outside src/worker imports from it (a worker is
 * what runs builds; the API, the CLI and the addon must not need one), and src/core, the ground
 * floor, imports nothing of Kiln's outside itself. Imports are read with TypeScript's own
 * pre-processor, so `import type`, `export ... from`, `import()` and `require()` all count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.join(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Each relative import of `file`, with the path it resolves to inside the repository. */
function imports(file: string): { specifier: string; resolved: string }[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ specifier, resolved: path.resolve(path.dirname(file), specifier) }));
}

const inside = (file: string, folder: string) => {
  const rel = path.relative(path.join(SRC, folder), file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
const shown = (file: string) => path.relative(path.join(SRC, '..'), file);

/** `file imports 'specifier'`, one per offending import, so a failure names every culprit. */
function offences(files: string[], forbidden: (resolved: string) => boolean): string[] {
  return files.flatMap((file) => imports(file).filter((i) => forbidden(i.resolved)).map((i) => `${shown(file)} imports '${i.specifier}'`));
}

describe('import boundaries', () => {
  const all = sourceFiles(SRC);

  test('the scan sees the tree (a moved src/ must not make this test pass vacuously)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((f) => inside(f, 'worker'))).toBe(true);
    expect(all.some((f) => inside(f, 'core/tensorrt'))).toBe(true);
  });

  test('nothing outside src/worker imports from src/worker, apart from the entry point that starts one', () => {
    const outside = all.filter((f) => !inside(f, 'worker'));
    // `kiln worker` runs a worker process in the foreground, as `kiln api` runs the API: it starts
    // the program at its entry point (required lazily) and uses nothing else of it.
    const entryPoints = new Set(["src/cli/commands/farm.ts imports '../../worker/main'"]);
    expect(offences(outside, (resolved) => inside(resolved, 'worker')).filter((o) => !entryPoints.has(o))).toEqual([]);
  });

  test('src/core imports nothing of Kiln outside src/core', () => {
    const core = all.filter((f) => inside(f, 'core'));
    expect(offences(core, (resolved) => inside(resolved, '') && !inside(resolved, 'core'))).toEqual([]);
  });
});
