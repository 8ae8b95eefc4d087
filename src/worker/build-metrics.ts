/**
 * A worker's own numbers, in its context's registry (every series labelled with the worker id)
 * and carried to the API's /metrics through Redis (src/state/fleet-metrics.ts): how long builds
 * and their phases take, and how builds end.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/** From sub-second CPU phases to hour-long TensorRT builds. */
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

export type BuildOutcome = 'succeeded' | 'failed' | 'cancelled' | 'retrying' | 'handed_back';

export class BuildMetrics {
  readonly phaseSeconds: Histogram<'target' | 'phase'>;
  readonly buildSeconds: Histogram<'target' | 'outcome'>;
  readonly finished: Counter<'target' | 'outcome'>;

  constructor(registry: Registry, workerId: string) {
    registry.setDefaultLabels({ worker: workerId });
    const registers = [registry];
    this.phaseSeconds = new Histogram({
      name: 'kiln_build_phase_duration_seconds',
      help: 'Time builds spent in each phase (preparing, building, validating, benchmarking, publishing), by target.',
      labelNames: ['target', 'phase'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.buildSeconds = new Histogram({
      name: 'kiln_build_duration_seconds',
      help: 'Time from a build attempt starting on a worker to its end, by target and outcome.',
      labelNames: ['target', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.finished = new Counter({
      name: 'kiln_build_attempts_total',
      help: 'Build attempts that ended, by target and outcome (succeeded, failed, cancelled, retrying, handed_back).',
      labelNames: ['target', 'outcome'],
      registers,
    });
  }

  attemptEnded(target: string, outcome: BuildOutcome, seconds: number): void {
    this.buildSeconds.observe({ target, outcome }, seconds);
    this.finished.inc({ target, outcome });
  }
}
