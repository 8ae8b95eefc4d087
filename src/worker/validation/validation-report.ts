/**
 * The last step of every toolchain's validation: compare the candidate's outputs with the
 * reference's, log one line per output, and fill the report, the same way for every toolchain.
 */
import type { ValidationOptions } from '../../core/options';
import type { ValidationReport } from '../../core/report';
import { compareOutputs, type OutputTensor } from './compare';
import type { HostTensor } from './seeded-inputs';

export interface ValidationRun {
  /** Names the reference in the report, e.g. `onnxruntime-cpu`. */
  referenceName: string;
  reference: Record<string, OutputTensor>;
  candidate: Record<string, OutputTensor>;
  inputs: Record<string, HostTensor>;
  rtol: number;
  atol: number;
  options: ValidationOptions;
  log(line: string): void;
  /** Appended to the log line of an output the candidate does not have. */
  missingNote?: string;
}

export function validationReport(run: ValidationRun): ValidationReport {
  const { rtol, atol, options } = run;
  const { verdict, outputs } = compareOutputs(run.reference, run.candidate, { rtol, atol, failRatio: options.failRatio });
  for (const o of outputs) {
    const missing = run.candidate[o.name] || !run.missingNote ? '' : ` (${run.missingNote})`;
    run.log(`validate ${o.name}: ${o.verdict}, ${o.mismatched}/${o.elements} outside isclose(rtol=${rtol}, atol=${atol}), max abs ${o.maxAbsError}, max rel ${o.maxRelError}${missing}`);
  }
  return {
    verdict,
    reference: run.referenceName,
    rtol,
    atol,
    seed: options.seed,
    failRatio: options.failRatio,
    inputs: Object.fromEntries(Object.values(run.inputs).map((t) => [t.name, { dims: t.dims, type: t.type, source: t.source }])),
    outputs,
  };
}
