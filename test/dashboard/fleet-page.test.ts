/** The fleet page places heartbeats by time and says a CPU reading is the whole host's. */
import type { FleetWorker } from '../../src/api/dashboard/data/fleet';
import { fleetBody } from '../../src/api/dashboard/pages/fleet';
import type { WorkerInfo } from '../../src/state/worker-registry';

const info = { id: 'cpu-1', host: 'vm', pid: 1, targets: [], toolchains: { onnxruntime: '1.30.0' }, hardware: {}, notes: [], currentBuild: null, since: '2026-01-01T00:00:00Z', lastBeat: '2026-01-01T00:00:30Z' } as WorkerInfo;
const sample = (at: string, utilizationPercent: number) => ({ at, source: 'cpu' as const, utilizationPercent, memoryUsedBytes: 1, memoryTotalBytes: 4 });

describe('fleet page', () => {
  it('puts samples on a linear axis of seconds, so a missed heartbeat leaves a gap', () => {
    const worker: FleetWorker = { info, current: null, telemetry: [sample('2026-01-01T00:00:00Z', 10), sample('2026-01-01T00:00:05Z', 20), sample('2026-01-01T00:00:30Z', 30)] };
    const out = fleetBody([worker]).value;
    const block = out.match(/<script type="application\/json" id="chart-worker-cpu-1-data">(.*?)<\/script>/s);
    const spec = JSON.parse(block![1]);
    expect(spec.labels).toEqual([-30, -25, 0]);
    expect(spec.x.linear).toBe(true);
    expect(spec.datasets[0].label).toBe('host CPU utilisation %');
    expect(out).toContain('30% host CPU busy (the whole machine');
    expect(out).toContain('Host CPU utilisation and memory, last 30 s');
  });
});
