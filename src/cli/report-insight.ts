/**
 * The parts of `kiln status` that say how a build compares: its speed-up over the reference per
 * batch size, whether the benchmark ran on a quiet machine, and how far the model drifted from its
 * previous version. Kept apart from the status layout
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

export function describeDrift(report: BuildReport | null | undefined): string[] {
  const d = report?.validation?.drift;
  if (!d) return [];
  const gate = d.maxDrift === null ? 'no gate (options.validation.maxDrift)' : `maxDrift ${d.maxDrift}`;
  const lines = [`drift from ${d.previous.label} (build ${d.previous.buildKey.slice(0, 12)}): ${d.verdict}, ${gate}${d.note ? `; ${d.note}` : ''}`];
  if (d.outputs.length) {
    const sci = (n: unknown) => (finite(n) ? n.toExponential(2) : '-');
    lines.push(indent(table(['OUTPUT', 'MAX |Δ|', 'MEAN |Δ|', 'VERDICT'], d.outputs.map((o) => [o.name, sci(o.maxAbsDiff), sci(o.meanAbsDiff), o.verdict]))));
  }
  return lines;
}
