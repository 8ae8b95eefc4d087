/** Numbers and times as people read them; pure functions, shared by every page. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `just now`, `3 min ago`, `5 h ago`, `2 d ago`. */
export function formatAge(iso: string | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  if (ms < 10_000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 48 * 3_600_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} d ago`;
}

/** Run time of a build: start to finish, or to now while it runs. */
export function buildDurationMs(record: { startedAt?: string; finishedAt?: string; state: string }, now: number = Date.now()): number | null {
  if (!record.startedAt) return null;
  const end = record.finishedAt ? Date.parse(record.finishedAt) : record.state === 'active' ? now : null;
  return end === null ? null : end - Date.parse(record.startedAt);
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** Errors can be long stack-like texts; tables show their first non-empty line. */
export function firstLine(text: string | undefined): string {
  if (!text) return '';
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

/**
 * The first line cut to at most `max` characters (the ellipsis counted) at a word boundary, so a
 * table cell never shows half a word; a line with no space in its second half is cut where it must.
 */
export function excerpt(text: string | undefined, max: number): string {
  const line = firstLine(text);
  if (line.length <= max) return line;
  const room = line.slice(0, max - 1);
  // A space right after the room means its last word is whole.
  const space = /\s/.test(line.charAt(max - 1)) ? room.length : room.search(/\s\S*$/);
  const head = space > max / 2 ? room.slice(0, space) : room;
  return `${head.replace(/[\s,;:(\[{-]+$/, '')}…`;
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
