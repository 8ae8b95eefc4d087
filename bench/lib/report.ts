/** The bench's results: one row per measurement, printed as a table and written as JSON + markdown. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Row {
  measurement: string;
  value: string;
  /** The target as text; '' for rows that are context (baselines), not targets. */
  target: string;
  /** null for context rows. */
  pass: boolean | null;
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
}

export function machine(): Machine {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

const verdict = (pass: boolean | null) => (pass === null ? '' : pass ? 'PASS' : 'FAIL');

export function formatTable(rows: Row[]): string {
  const header = ['measurement', 'value', 'target', 'result'];
  const cells = rows.map((r) => [r.measurement, r.value, r.target, verdict(r.pass)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| measurement | value | target | result |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${esc(r.measurement)} | ${esc(r.value)} | ${esc(r.target)} | ${verdict(r.pass)} |`),
  ].join('\n');
}

export async function writeResults(dir: string, m: Machine, rows: Row[], details: unknown, method: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify({ machine: m, rows, details }, null, 2)}\n`);
  const passed = rows.every((r) => r.pass !== false);
  const markdown = [
    '# Kiln benchmark (`npm run bench`)',
    '',
    `Latest run: ${m.date}, ${passed ? 'every target met' : 'some targets missed'}. Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.platform}.`,
    'This file and `latest.json` (every number, with the raw latency statistics) are written by the bench itself.',
    '',
    markdownTable(rows),
    '',
    '## How it measures',
    '',
    method,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'README.md'), markdown);
}

export const MB = 1e6;
export const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
export const mbps = (bytes: number, ms: number) => (bytes / MB) / (ms / 1000);
export const ms = (x: number) => `${x.toFixed(2)} ms`;
