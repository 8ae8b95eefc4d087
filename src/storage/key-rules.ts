/**
 * The key syntax every store accepts: `/`-separated segments of `[A-Za-z0-9._-]`, none empty and
 * none starting with `.`. That rules out `..`, absolute paths, backslashes, NUL and every other
 * way out of the filesystem store's root, keeps S3 and filesystem listings in the same (byte)
 * order, and leaves names starting with `.` free for the filesystem store's own sidecars and locks.
 */
import { InvalidKeyError } from './errors';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 1024;
const ACCEPTED = `'/'-separated segments of [A-Za-z0-9._-], each non-empty and not starting with '.', at most ${MAX_KEY_LENGTH} characters`;

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH || !key.split('/').every((s) => SEGMENT.test(s))) {
    throw new InvalidKeyError(`Expected a key of ${ACCEPTED} but received ${JSON.stringify(key)}`);
  }
}

/** A list prefix: '' (everything), a key, or a key followed by '/'. */
export function assertValidPrefix(prefix: string): void {
  const trimmed = typeof prefix === 'string' && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (prefix === '') return;
  try {
    assertValidKey(trimmed);
  } catch {
    throw new InvalidKeyError(`Expected a prefix of ${ACCEPTED}, optionally ending in '/', but received ${JSON.stringify(prefix)}`);
  }
}
