/**
 * Builds fake NVML libraries (fixtures/fake-nvml.c) with the system C compiler, so the addon's
 * NVML path runs on machines without a GPU. Tests that need them skip when no compiler exists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type FakeVariant = 'current' | 'old-driver' | 'init-fails' | 'gpu-lost' | 'not-nvml';

const DEFINES: Record<FakeVariant, string[]> = {
  current: [],
  'old-driver': ['-DFAKE_OLD_DRIVER'],
  'init-fails': ['-DFAKE_INIT_FAILS'],
  'gpu-lost': ['-DFAKE_GPU_LOST'],
  'not-nvml': [],
};

/** The C compiler's name, or null when there is none. */
export function findCompiler(): string | null {
  for (const cc of ['cc', 'gcc', 'clang']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return null;
}

/**
 * Compiles each variant into `<dir>/<variant>/libnvidia-ml.so.1`. Each gets its own path because
 * the addon keeps a library open per path for the life of the process.
 */
export function buildFakeNvml(cc: string, variants: FakeVariant[]): { dir: string; paths: Record<FakeVariant, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-fake-nvml-'));
  const paths = {} as Record<FakeVariant, string>;
  for (const variant of variants) {
    fs.mkdirSync(path.join(dir, variant));
    const out = path.join(dir, variant, 'libnvidia-ml.so.1');
    let source = path.join(__dirname, 'fixtures', 'fake-nvml.c');
    if (variant === 'not-nvml') {
      source = path.join(dir, 'not-nvml.c');
      fs.writeFileSync(source, 'int not_nvml(void) { return 0; }\n');
    }
    execFileSync(cc, ['-shared', '-fPIC', '-O1', ...DEFINES[variant], '-o', out, source], { stdio: 'pipe' });
    paths[variant] = out;
  }
  return { dir, paths };
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}
