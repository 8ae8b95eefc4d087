/** Byte ranges as HTTP has them: inclusive ends, an end past the last byte is cut to it. */
import type { ByteRange } from './artifact-store';
import { RangeNotSatisfiableError, StoreError } from './errors';

export function assertValidRange(key: string, range: ByteRange): void {
  const { start, end } = range;
  const ok = Number.isSafeInteger(start) && start >= 0 && (end === undefined || (Number.isSafeInteger(end) && end >= start));
  if (!ok) {
    throw new StoreError(`Expected a byte range with integers 0 <= start <= end for ${key} but received ${JSON.stringify(range)}`);
  }
}

/** The range actually served from an object of `size` bytes. */
export function resolveRange(key: string, range: ByteRange, size: number): { start: number; end: number } {
  assertValidRange(key, range);
  if (range.start >= size) throw new RangeNotSatisfiableError(key, size);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

export function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.end ?? ''}`;
}
