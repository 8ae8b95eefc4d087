/**
 * Downloads what a resolve answer names into a directory, every file verified (sha256, size, and
 * for TensorRT engines the plan header) before it is put in place. For an artifact set the
 * manifest is read first and the answer's files must agree with it; the manifest is written last,
 * so a directory with a manifest holds the whole, verified set.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../core/manifest';
import type { ResolveAnswer, ResolveFile } from './api-types';
import type { KilnClient } from './client';
import { downloadVerified, DownloadVerificationError } from './download';
import { checkPlanFile } from './plan-check';

export interface FetchedFile {
  name: string;
  path: string;
  role?: string;
  sha256: string;
  size: number;
  /** False when the directory already held this exact file. */
  downloaded: boolean;
}

export interface FetchOptions {
  /** The client's TensorRT version: engines must have been made by it. */
  trt?: string;
}

export const TIMING_CACHE_FILE = 'timing.cache';

export async function fetchArtifacts(client: KilnClient, answer: ResolveAnswer, dir: string, options: FetchOptions = {}): Promise<FetchedFile[]> {
  await mkdir(dir, { recursive: true });
  const manifest = answer.buildKey ? await client.json<Manifest>('GET', `/v1/artifacts/${answer.buildKey}/manifest.json`) : null;
  if (manifest) agree(answer.files, manifest);

  const fetched: FetchedFile[] = [];
  for (const file of answer.files) {
    const name = safeName(file.name);
    const isEngine = file.role === 'engine';
    if (isEngine && !options.trt) throw new DownloadVerificationError(`${name} is a TensorRT engine; give --trt so its plan header can be checked`);
    const result = await downloadVerified(client, {
      url: file.url,
      dest: path.join(dir, name),
      sha256: file.sha256,
      size: file.size,
      check: isEngine ? async (temp) => void (await checkPlanFile(temp, options.trt!, name)) : undefined,
    });
    fetched.push({ name, path: result.path, role: file.role, sha256: result.sha256, size: result.size, downloaded: result.downloaded });
  }

  if (answer.timingCache) {
    // The answer names the fleet timing cache without its hash; the download announces it.
    const result = await downloadVerified(client, { url: answer.timingCache.url, dest: path.join(dir, TIMING_CACHE_FILE) });
    fetched.push({ name: TIMING_CACHE_FILE, path: result.path, role: 'timing-cache', sha256: result.sha256, size: result.size, downloaded: result.downloaded });
  }

  if (manifest) await writeAtomically(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return fetched;
}

/** The resolve answer comes from the index; the manifest is the truth. They must say the same. */
function agree(files: ResolveFile[], manifest: Manifest): void {
  for (const file of files) {
    const entry = manifest.files.find((f) => f.name === file.name);
    if (!entry) throw new DownloadVerificationError(`Expected ${file.name} in the manifest of ${manifest.buildKey} but it lists only ${manifest.files.map((f) => f.name).join(', ')}`);
    if (entry.sha256 !== file.sha256 || entry.size !== file.size) {
      throw new DownloadVerificationError(
        `Expected ${file.name} to be sha256 ${entry.sha256} (${entry.size} bytes) as its manifest says, but resolve announced ${file.sha256} (${file.size} bytes)`,
      );
    }
  }
}

/** A file name from the server is used only as a plain name inside the target directory. */
export function safeName(name: string): string {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new DownloadVerificationError(`Expected a plain file name from the server but received ${JSON.stringify(name)}`);
  }
  return name;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.part`;
  try {
    await writeFile(temp, text);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
