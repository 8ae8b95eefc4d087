/**
 * Build ids are 64 hex digits; tables show the first 12. A prefix is accepted like git and docker
 * accept one, looked up among the most recent builds (the API itself takes whole ids only).
 */
import type { BuildPageAnswer } from './api-types';
import { UsageError } from './errors';
import type { KilnClient } from './client';

const FULL = /^[0-9a-f]{64}$/;
const PREFIX = /^[0-9a-f]{6,63}$/;
/** How many recent builds a prefix is looked up in. */
export const PREFIX_SCAN_LIMIT = 2000;
const PAGE = 500;

export async function resolveBuildKey(client: KilnClient, ref: string): Promise<string> {
  const id = ref.trim().toLowerCase();
  if (FULL.test(id)) return id;
  if (!PREFIX.test(id)) {
    throw new UsageError(`Expected a build key (64 hex digits, or a prefix of 6 or more) but received "${ref}"`);
  }
  const matches: string[] = [];
  let cursor: string | undefined;
  for (let scanned = 0; scanned < PREFIX_SCAN_LIMIT; scanned += PAGE) {
    const page = await client.json<BuildPageAnswer>('GET', '/v1/builds', { query: { limit: PAGE, cursor } });
    matches.push(...page.builds.map((b) => b.buildKey).filter((b) => b.startsWith(id)));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new UsageError(`Build prefix ${ref} is ambiguous: ${matches.map((m) => m.slice(0, 16)).join(', ')}; give more digits`);
  throw new Error(`No recent build starts with ${ref}; give the whole 64-digit build key (\`kiln builds\` lists them)`);
}
