/**
 * The local temp directory (KILN_HOME/tmp) that API and worker processes of one machine share:
 * work directories of builds (`build-<key prefix>-*`, see src/worker/pipeline.ts) and uploads
 * being received (`upload-*`, src/api/upload.ts). A worker killed mid-build leaves its work
 * directory behind (tens of MB each); a crashed API leaves its partial uploads.
 *
 * A work directory is removed when no build whose key it names is active (a live peer's build is
 * `active` in its record before its directory is made, so it is never touched); an upload file
 * once it has not changed for `olderThanMs` (a live upload is cut after a minute without a byte).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FarmContext } from '../context';

export interface SweptLocal {
  entries: number;
  bytes: number;
}

const WORK_DIR = /^build-([0-9a-f]{12})-/;

export async function sweepLocalTemp(ctx: FarmContext, options: { root?: string; olderThanMs: number }): Promise<SweptLocal> {
  const root = options.root ?? ctx.config.tmpDir;
  const swept: SweptLocal = { entries: 0, bytes: 0 };
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return swept;
    throw err;
  }
  const active = await ctx.redis.zrange(ctx.keys.buildsByState('active'), '0', '-1');
  for (const name of names) {
    const full = path.join(root, name);
    const stats = await stat(full).catch(() => null);
    if (!stats) continue;
    const work = WORK_DIR.exec(name);
    const stale = work
      ? stats.isDirectory() && !active.some((key) => key.startsWith(work[1]))
      : name.startsWith('upload-') && stats.isFile() && Date.now() - stats.mtimeMs > options.olderThanMs;
    if (!stale) continue;
    const bytes = await sizeOf(full);
    await rm(full, { recursive: true, force: true });
    swept.entries++;
    swept.bytes += bytes;
  }
  return swept;
}

async function sizeOf(file: string): Promise<number> {
  const stats = await stat(file).catch(() => null);
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.size;
  let total = 0;
  for (const name of await readdir(file).catch(() => [] as string[])) total += await sizeOf(path.join(file, name));
  return total;
}
