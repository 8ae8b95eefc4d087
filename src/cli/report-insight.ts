/**
 * The parts of `kiln status` that say how a build compares: its speed-up over the reference per
 * batch size, and whether the benchmark ran on a quiet machine. Kept apart from the status layout
 * so each report section reads as one block.
 */
import type { BuildReport } from '../core/report';
import { indent } from './commands/models';
import { formatMs, table } from './format';

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

export function describeSpeedup(report: BuildReport | null | undefined): string[] {
  const b = report?.benchmark;
  if (!b?.speedup?.length || !b.reference) return [];
  const lines = [
    `speed-up over the reference (${b.reference.name}):`,
    indent(table(['BATCH', 'REFERENCE', 'ARTIFACT', 'SPEED-UP'], b.speedup.map((s) => [s.batch, formatMs(s.referenceMedianMs), formatMs(s.medianMs), finite(s.speedup) ? `${s.speedup.toFixed(2)}x` : '-']))),
  ];
  const c = b.conditions;
  if (c) {
    const threads = c.threads ?? c.referenceThreads;
    const host = c.host ? `, other load ${c.host.otherCores.toFixed(2)} of ${c.host.cores} cores` : '';
    lines.push(`measured: ${c.quality}${threads ? `, ${threads} threads` : ''}${host}${c.reasons.length ? ` (${c.reasons.join('; ')})` : ''}`);
  }
  return lines;
}
