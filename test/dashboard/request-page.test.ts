/** The request page says "waiting" when nothing runs, and marks what no live worker serves. */
import { dashboardRequestState, type RequestSummary } from '../../src/api/dashboard/data/requests';
import { requestMatrixBody } from '../../src/api/dashboard/pages/requests';
import type { BuildRecord } from '../../src/state/build-records';
import type { RequestRecord } from '../../src/state/requests';

const request: RequestRecord = {
  id: 'req-1',
  modelId: 'a'.repeat(64),
  targets: ['trt10.9.0-sm89', 'trt10.9.0-sm86'],
  options: {} as RequestRecord['options'],
  builds: { 'trt10.9.0-sm89': 'b1', 'trt10.9.0-sm86': 'b2' },
  createdAt: '2026-01-01T00:00:00Z',
};
const build = (id: string, targetKey: string, state: BuildRecord['state']) => ({ id, targetKey, state, percent: 0 }) as BuildRecord;

describe('request page', () => {
  it('calls a request waiting when nothing is active and the rest is queued', () => {
    expect(dashboardRequestState(['succeeded', 'succeeded', 'queued'])).toBe('waiting');
    expect(dashboardRequestState(['active', 'queued'])).toBe('running');
    expect(dashboardRequestState(['queued', 'queued'])).toBe('queued');
    expect(dashboardRequestState(['succeeded'])).toBe('succeeded');
    expect(dashboardRequestState([])).toBe('unknown');
  });

  it('marks a queued cell and its row when no live worker serves the target', () => {
    const builds = [build('b1', 'trt10.9.0-sm89', 'succeeded'), build('b2', 'trt10.9.0-sm86', 'queued')];
    const summary: RequestSummary = { request, state: dashboardRequestState(builds.map((b) => b.state)), counts: {} };
    const out = requestMatrixBody(summary, builds, () => null, new Set(['trt10.9.0-sm89'])).value;
    expect(out).toContain('badge state-waiting');
    expect(out).toMatch(/class="cell state-bg-queued cell-unserved" data-build-id="b2"/);
    expect(out).toMatch(/class="cell state-bg-succeeded" data-build-id="b1"/);
    expect(out).toContain('TensorRT 10.9.0 · CC 8.6<span class="unserved-note">');
    expect(out).not.toContain('TensorRT 10.9.0 · CC 8.9<span class="unserved-note">');
    expect(out).toContain('No live worker serves <span class="mono">trt10.9.0-sm86</span>');
  });
});
