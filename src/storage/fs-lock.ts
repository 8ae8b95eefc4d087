/**
 * A lock file per key, shared by every process that uses the same store directory (the API and
 * the workers are separate processes). Taken with O_EXCL; held only while a write commits (a
 * rename or two, never while a body streams), so a lock older than `staleMs` belongs to a process
 * that died holding it and is broken.
 *
 * Breaking is itself exclusive: a process must first create `<lock>.break` (O_EXCL), then checks
 * that the lock is still the very file it found stale (same inode and mtime) before removing it.
 * Without that, two waiters could both see the stale lock, one remove it and take a new one, and
 * the other remove that new one.
 */
import { open, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from './errors';

export interface LockOptions {
  staleMs: number;
  timeoutMs: number;
}

export async function withFileLock<T>(lockPath: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const ino = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    // Only remove our own lock: if ours was broken as stale, the file there now is someone else's.
    const current = await statOrNull(lockPath);
    if (current?.ino === ino) await rm(lockPath, { force: true });
  }
}

async function acquire(lockPath: string, { staleMs, timeoutMs }: LockOptions): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let waitMs = 2; ; waitMs = Math.min(waitMs * 2, 50)) {
    const ino = await tryCreate(lockPath, `${process.pid}\n`);
    if (ino !== null) return ino;
    await breakIfStale(lockPath, staleMs);
    if (Date.now() > deadline) {
      throw new StoreError(
        `Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}; if no Kiln process is writing, delete it`,
      );
    }
    // Another process holds the lock for a few milliseconds; there is no event to wait on across processes.
    await sleep(waitMs);
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<void> {
  const seen = await statOrNull(lockPath);
  if (!seen || Date.now() - seen.mtimeMs < staleMs) return;
  const breaker = `${lockPath}.break`;
  if ((await tryCreate(breaker, '')) === null) {
    // A breaker this old belongs to a process that died in the microseconds it holds one.
    const old = await statOrNull(breaker);
    if (old && Date.now() - old.mtimeMs > staleMs) await rm(breaker, { force: true });
    return;
  }
  try {
    const now = await statOrNull(lockPath);
    if (now && now.ino === seen.ino && now.mtimeMs === seen.mtimeMs) await rm(lockPath, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}

/** Creates the file if absent and returns its inode; null if it exists. */
async function tryCreate(path: string, content: string): Promise<number | null> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  try {
    await handle.writeFile(content);
    return (await handle.stat()).ino;
  } finally {
    await handle.close();
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
