import type { ArtifactStore } from './artifact-store';
import { NotFoundError } from './errors';

/** Reads a small JSON object (manifests, model records); null when absent. */
export async function readJson<T>(store: ArtifactStore, key: string): Promise<T | null> {
  try {
    const { body } = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
