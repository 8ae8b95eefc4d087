/**
 * Requests and their matrix: one cell per target, rows by what fixes binary compatibility (the
 * toolchain version, the platform, and the GPU's CC or the CPU's ISA), columns by what varies
 * within it (the SKU, a hardware-compatibility level, or none), like a CI matrix. The platform is
 * always named, linux-x86_64 included: target keys leave that default out (core/platform.ts), and
 * a row without it would read as "any platform".
 */
import type { FarmContext } from '../../../context';
import { parseTargetKey, TargetParseError, targetPlatform } from '../../../core/target';
import { HARDWARE_COMPATIBILITY_LEVELS } from '../../../core/tensorrt/hardware-compatibility';
import type { BuildRecord } from '../../../state/build-records';
import { requestBuildKeys, type RequestRecord } from '../../../state/requests';
import { mapRequestRefError, matrixState } from '../../routes/requests';
import { withReports } from '../../build-reports';

export interface MatrixCell {
  target: string;
  build: BuildRecord | null;
  buildKey: string;
}

export interface Matrix {
  rows: string[];
  columns: string[];
  /** `${row}\u0000${column}` -> cell. */
  cells: Map<string, MatrixCell>;
}

export function matrixPlace(targetKey: string): { row: string; column: string } {
  try {
    const t = parseTargetKey(targetKey);
    // The platform names the CPU architecture too (linux-aarch64), so ONNX Runtime rows need only the ISA after it.
    const platform = targetPlatform(t);
    if (t.toolchain === 'onnxruntime') return { row: `ONNX Runtime ${t.ort} · ${platform} · ${t.isa}`, column: 'CPU' };
    return { row: `TensorRT ${t.trt} · ${platform} · CC ${t.cc}`, column: t.sku ?? (t.hwCompat !== 'none' ? t.hwCompat : 'any SKU') };
  } catch (err) {
    if (err instanceof TargetParseError) return { row: targetKey, column: '—' };
    throw err;
  }
}

export function buildMatrix(request: RequestRecord, builds: BuildRecord[]): Matrix {
  const byId = new Map(builds.map((b) => [b.buildKey, b]));
  const rows = new Set<string>();
  const columns = new Set<string>();
  const cells = new Map<string, MatrixCell>();
  for (const [target, buildKey] of Object.entries(request.builds)) {
    const { row, column } = matrixPlace(target);
    rows.add(row);
    columns.add(column);
    cells.set(`${row}\u0000${column}`, { target, buildKey, build: byId.get(buildKey) ?? null });
  }
  // Generic columns first, then SKUs alphabetically; rows by toolchain and version.
  const order = (c: string) => (c === 'CPU' ? 0 : c === 'any SKU' ? 1 : (HARDWARE_COMPATIBILITY_LEVELS as readonly string[]).includes(c) ? 2 : 3);
  return {
    rows: [...rows].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
    columns: [...columns].sort((a, b) => order(a) - order(b) || a.localeCompare(b)),
    cells,
  };
}

export interface RequestSummary {
  request: RequestRecord;
  state: string;
  counts: Record<string, number>;
}

/** A request by its id or a prefix of it (404 or 400 when it names none, or several). */
export async function requestData(ctx: FarmContext, ref: string): Promise<{ summary: RequestSummary; builds: BuildRecord[]; liveTargets: Set<string> }> {
  const request = await ctx.requests.resolve(ref).catch(mapRequestRefError);
  const [records, liveTargets] = await Promise.all([ctx.builds.getMany(requestBuildKeys(request)), ctx.workers.liveTargets()]);
  // A sweep's view shows its points' numbers and best point, from their reports.
  const builds = request.sweep ? await withReports(ctx, records) : records;
  return { summary: summarize(request, builds), builds, liveTargets };
}

export async function latestRequests(ctx: FarmContext, count: number): Promise<RequestSummary[]> {
  const requests = await ctx.requests.latest(count);
  const builds = await ctx.builds.getMany([...new Set(requests.flatMap(requestBuildKeys))]);
  return requests.map((r) => {
    const keys = new Set(requestBuildKeys(r));
    return summarize(r, builds.filter((b) => keys.has(b.buildKey)));
  });
}

function summarize(request: RequestRecord, builds: BuildRecord[]): RequestSummary {
  const counts: Record<string, number> = {};
  for (const b of builds) counts[b.state] = (counts[b.state] ?? 0) + 1;
  return { request, state: matrixState(builds.map((b) => b.state)), counts };
}
