import { judgeConditions, NOISY_OTHER_CORES, parseProcStat, watchHostLoad } from '../../src/worker/benchmark/host-load';
import { speedups } from '../../src/worker/benchmark/speedup';
import type { BenchmarkRow, HostLoad } from '../../src/core/report';

const STAT = (busy: number, idle: number) => `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0
cpu0 1 0 0 1 0 0 0 0 0 0
cpu1 1 0 0 1 0 0 0 0 0 0
intr 1 2 3
`;

describe('parseProcStat', () => {
  test('busy is every tick but idle and iowait; cores are the per-CPU lines', () => {
    expect(parseProcStat('cpu  10 2 3 100 5 1 1 0 7 0\ncpu0 1\ncpu1 1\ncpu2 1\n')).toEqual({ busy: 17, total: 122, cores: 3 });
  });

  test('anything but an aggregate cpu line is refused with what was read', () => {
    expect(() => parseProcStat('intr 1 2')).toThrow('Expected /proc/stat to start with an aggregate "cpu" line but received "intr 1 2"');
  });
});

describe('watchHostLoad', () => {
  test('busy cores come from the /proc/stat shares; the worker itself is not counted as other load', () => {
    const reads = [STAT(100, 100), STAT(200, 100)];
    const watch = watchHostLoad((file) => (file === '/proc/loadavg' ? '1.50 1.00 0.50 2/300 1234\n' : reads.shift()!));
    const load = watch.stop()!;
    // 100 busy ticks of 100 in total on 2 cores: both cores busy throughout.
    expect(load.cores).toBe(2);
    expect(load.busyCores).toBe(2);
    expect(load.otherCores).toBeLessThanOrEqual(2);
    expect(load.loadAverage1m).toBe(1.5);
  });

  test('no /proc: no reading rather than a made-up one', () => {
    const watch = watchHostLoad(() => {
      throw new Error('ENOENT');
    });
    expect(watch.stop()).toBeNull();
  });
});

describe('judgeConditions', () => {
  const host = (otherCores: number): HostLoad => ({ cores: 4, busyCores: otherCores + 1, otherCores, loadAverage1m: 1, seconds: 2 });

  test('other processes above the threshold make the measurement noisy and say how much', () => {
    const c = judgeConditions({ threads: 4, host: host(1.5) });
    expect(c.quality).toBe('noisy');
    expect(c.reasons).toEqual([`other processes kept 1.50 of 4 CPU cores busy (more than ${NOISY_OTHER_CORES}) while measuring`]);
    expect(c.threads).toBe(4);
  });

  test('a quiet host is clean; so is one /proc could not describe', () => {
    expect(judgeConditions({ threads: 2, host: host(0.1) })).toMatchObject({ quality: 'clean', reasons: [] });
    expect(judgeConditions({ threads: 2, host: null })).toMatchObject({ quality: 'clean', host: null });
  });

  test('a busy idle-guard reading makes a GPU benchmark noisy', () => {
    const c = judgeConditions({
      threads: null,
      referenceThreads: 8,
      host: host(0),
      gpu: [
        { at: '2026-12-02T00:00:00Z', utilizationGpu: 0, otherProcesses: 0, busy: false, why: null },
        { at: '2026-12-02T00:00:05Z', utilizationGpu: 90, otherProcesses: 1, busy: true, why: '1 other compute process(es) (PIDs 42)' },
      ],
    });
    expect(c.quality).toBe('noisy');
    expect(c.referenceThreads).toBe(8);
    expect(c.reasons).toEqual(['the GPU idle guard saw 1 other compute process(es) (PIDs 42) at 2026-12-02T00:00:05Z']);
  });
});

describe('speedups', () => {
  const row = (batch: number, median: number): BenchmarkRow => ({
    batch,
    iterations: 1,
    latencyMs: { min: median, mean: median, median, p90: median, p95: median, p99: median, max: median },
    throughputQps: 1000 / median,
    throughputSps: (1000 / median) * batch,
  });

  test('reference median over artifact median, at batch sizes both measured', () => {
    expect(speedups([row(1, 2), row(2, 3), row(4, 5)], [row(1, 4), row(2, 3)])).toEqual([
      { batch: 1, referenceMedianMs: 4, medianMs: 2, speedup: 2 },
      { batch: 2, referenceMedianMs: 3, medianMs: 3, speedup: 1 },
    ]);
  });
});
