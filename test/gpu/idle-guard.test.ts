/**
 * The GPU idle guard with an injected NVML reading (there is no GPU here): each policy before a
 * build, and the watch during one.
 */
import type { GpuProcess, GpuTelemetry } from '../../src/native/types';
import { GpuBusyError, IdleGuard, type GpuReading, type IdleGuardOptions, type IdleWatch } from '../../src/worker/gpu/idle-guard';

function reading(processes: GpuProcess[] | null, utilizationGpu: number | null = 0): GpuTelemetry {
  return {
    index: 0,
    utilizationGpu,
    utilizationMemory: 0,
    memoryUsedBytes: 512 * 2 ** 20,
    memoryTotalBytes: 16 * 2 ** 30,
    processes,
    temperatureC: 41,
    smClockMHz: 210,
    memClockMHz: 405,
    powerWatts: 18,
    at: new Date().toISOString(),
  };
}

/** A telemetry function answering from a script, repeating its last answer. */
function scripted(answers: (GpuTelemetry | Error)[]): IdleGuardOptions['telemetry'] & { calls: number; onCall?: (calls: number) => void } {
  const fn = Object.assign(
    async () => {
      const answer = answers[Math.min(fn.calls, answers.length - 1)];
      fn.calls++;
      fn.onCall?.(fn.calls);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    { calls: 0, onCall: undefined as ((calls: number) => void) | undefined },
  );
  return fn;
}

const OTHER = { pid: 31337, usedMemoryBytes: 2 ** 30 };
const base = { waitSeconds: 5, utilizationPercent: 10, pollMs: 5 };
const never = new AbortController().signal;

describe('before a build', () => {
  test('an idle GPU: one reading, nothing flagged', async () => {
    const telemetry = scripted([reading([])]);
    const report = await new IdleGuard({ ...base, policy: 'wait', telemetry }).beforeBuild(never);
    expect(telemetry.calls).toBe(1);
    expect(report).toMatchObject({ policy: 'wait', flagged: false, before: { busy: false, why: null, others: [] }, notes: [] });
  });

  test('the worker\'s own processes do not count', async () => {
    const telemetry = scripted([reading([{ pid: process.pid, usedMemoryBytes: 1 }])]);
    const report = await new IdleGuard({ ...base, policy: 'refuse', telemetry, ownPids: [process.pid] }).beforeBuild(never);
    expect(report.before.busy).toBe(false);
  });

  test('wait: waits until the GPU is idle, then builds unflagged', async () => {
    const telemetry = scripted([reading([OTHER]), reading([], 95), reading([], 3)]);
    const logs: string[] = [];
    const report = await new IdleGuard({ ...base, policy: 'wait', telemetry }).beforeBuild(never, (l) => logs.push(l));
    expect(telemetry.calls).toBe(3);
    expect(report.before).toMatchObject({ busy: true, why: '1 other compute process(es) (PIDs 31337)' });
    expect(report.start).toMatchObject({ busy: false, utilizationGpu: 3 });
    expect(report.flagged).toBe(false);
    expect(logs[0]).toBe('GPU busy: 1 other compute process(es) (PIDs 31337); waiting up to 5 s for it to become idle');
    expect(logs[1]).toMatch(/^GPU idle after \d+\.\d s$/);
  });

  test('wait: still busy after the wait, it builds anyway and flags the build', async () => {
    const telemetry = scripted([reading([], 60)]);
    const logs: string[] = [];
    const report = await new IdleGuard({ ...base, waitSeconds: 0.05, policy: 'wait', telemetry }).beforeBuild(never, (l) => logs.push(l));
    expect(telemetry.calls).toBeGreaterThan(1);
    expect(report.flagged).toBe(true);
    expect(report.start.why).toBe('utilization 60% > 10%');
    expect(report.waitedSeconds).toBeGreaterThanOrEqual(0.05);
    expect(logs[logs.length - 1]).toBe('GPU still busy after waiting 0.05 s: utilization 60% > 10%; building anyway and flagging the build (KILN_GPU_IDLE_POLICY=wait)');
  });

  test('wait: a cancel while waiting stops the wait', async () => {
    const abort = new AbortController();
    const telemetry = scripted([reading([OTHER])]);
    const waiting = new IdleGuard({ ...base, policy: 'wait', telemetry }).beforeBuild(abort.signal, () => abort.abort('cancel'));
    await expect(waiting).rejects.toBe('cancel');
  });

  test('flag: builds at once on a busy GPU, flagged', async () => {
    const telemetry = scripted([reading([OTHER], 80)]);
    const report = await new IdleGuard({ ...base, policy: 'flag', telemetry }).beforeBuild(never);
    expect(telemetry.calls).toBe(1);
    expect(report).toMatchObject({ flagged: true, waitedSeconds: expect.any(Number), start: { why: '1 other compute process(es) (PIDs 31337) and utilization 80% > 10%' } });
  });

  test('refuse: a busy GPU fails the attempt with GpuBusyError', async () => {
    const guard = new IdleGuard({ ...base, policy: 'refuse', telemetry: scripted([reading([OTHER])]) });
    await expect(guard.beforeBuild(never)).rejects.toThrow(
      new GpuBusyError('GPU busy before the build: 1 other compute process(es) (PIDs 31337); KILN_GPU_IDLE_POLICY=refuse, so this attempt is given back to be retried'),
    );
  });

  test('NVML failing or unable to list processes never blocks a build, and is noted', async () => {
    const failing = await new IdleGuard({ ...base, policy: 'refuse', telemetry: scripted([new Error('NVML_ERROR_GPU_IS_LOST')]) }).beforeBuild(never);
    expect(failing).toMatchObject({ flagged: false, notes: ['NVML reading failed: NVML_ERROR_GPU_IS_LOST'], before: { busy: false, others: null } });
    const unlisted = await new IdleGuard({ ...base, policy: 'refuse', telemetry: scripted([reading(null, 0)]) }).beforeBuild(never);
    expect(unlisted.notes).toEqual(['NVML could not list compute processes']);
  });

  test('an unknown policy is refused with what is accepted', () => {
    expect(() => new IdleGuard({ ...base, policy: 'sometimes' as never, telemetry: scripted([reading([])]) })).toThrow(
      'Expected one of wait, flag, refuse for policy but received sometimes',
    );
  });
});

describe('during a build', () => {
  test('its own trtexec and the load it causes are expected; another process appearing flags the build once', async () => {
    const trtexecPid = 5000;
    const telemetry = scripted([reading([]), reading([{ pid: trtexecPid, usedMemoryBytes: 1 }], 100), reading([{ pid: trtexecPid, usedMemoryBytes: 1 }, OTHER], 100)]);
    const guard = new IdleGuard({ ...base, policy: 'wait', telemetry });
    const report = await guard.beforeBuild(never);
    const seen: GpuReading[] = [];
    let watch!: IdleWatch;
    // Watch until two readings after the one that found the other process, then stop.
    await new Promise<void>((resolve) => {
      watch = guard.watch(report, () => [trtexecPid], (r) => {
        seen.push(r);
        const at = telemetry.calls;
        telemetry.onCall = (calls) => calls >= at + 2 && resolve();
      });
    });
    watch.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ busy: true, why: '1 other compute process(es) (PIDs 31337)' });
    expect(report.flagged).toBe(true);
    expect(report.during.busySamples).toBeGreaterThanOrEqual(2);
    expect(report.during.otherPids).toEqual([31337]);
    expect(report.during.samples).toBeGreaterThanOrEqual(2);
  });

  test('in a PID namespace the trtexec NVML lists under a host PID is taken for the worker\'s own, and noted', async () => {
    const guard = new IdleGuard({ ...base, policy: 'refuse', telemetry: scripted([reading([{ pid: 987654, usedMemoryBytes: 1 }], 100)]) });
    const r = await guard.read([4321]);
    expect(r).toMatchObject({ busy: false, others: [] });
    expect(r.note).toBe("no NVML PID matched the worker's trtexec (a PID namespace?), so 1 unknown process(es) were taken for it");
    // Two unknown processes and one trtexec: one of them is someone else's.
    const two = new IdleGuard({ ...base, policy: 'refuse', telemetry: scripted([reading([{ pid: 987654, usedMemoryBytes: 1 }, OTHER], 100)]) });
    expect(await two.read([4321])).toMatchObject({ busy: true, why: '1 other compute process(es) (PIDs 31337)' });
  });
});
