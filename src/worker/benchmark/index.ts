export { latencyStats, percentile } from './stats';
export { measure, type MeasureOptions, type Measurement } from './measure';
