/** The request page says "waiting" when nothing runs, marks what no live worker serves, and names every row's platform. */
import { matrixPlace, type RequestSummary } from '../../src/api/dashboard/data/requests';
import { matrixState } from '../../src/api/routes/requests';
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
const build = (buildKey: string, targetKey: string, state: BuildRecord['state']) => ({ buildKey, targetKey, state, percent: 0 }) as BuildRecord;

describe('request page', () => {
  it('calls a request waiting when nothing is active and the rest is queued', () => {
    expect(matrixState(['succeeded', 'succeeded', 'queued'])).toBe('waiting');
    expect(matrixState(['active', 'queued'])).toBe('running');
    expect(matrixState(['queued', 'queued'])).toBe('queued');
    expect(matrixState(['succeeded'])).toBe('succeeded');
    expect(matrixState([])).toBe('unknown');
  });

  it('marks a queued cell and its row when no live worker serves the target', () => {
    const builds = [build('b1', 'trt10.9.0-sm89', 'succeeded'), build('b2', 'trt10.9.0-sm86', 'queued')];
    const summary: RequestSummary = { request, state: matrixState(builds.map((b) => b.state)), counts: {} };
    const out = requestMatrixBody(summary, builds, () => null, new Set(['trt10.9.0-sm89'])).value;
    expect(out).toContain('badge state-waiting');
    expect(out).toMatch(/class="cell state-bg-queued cell-unserved" data-build-id="b2"/);
    expect(out).toMatch(/class="cell state-bg-succeeded" data-build-id="b1"/);
    expect(out).toContain('TensorRT 10.9.0 · linux-x86_64 · CC 8.6<span class="unserved-note">');
    expect(out).not.toContain('TensorRT 10.9.0 · linux-x86_64 · CC 8.9<span class="unserved-note">');
    expect(out).toContain('No live worker serves <span class="mono">trt10.9.0-sm86</span>');
  });

  it('names the platform of every row, linux-x86_64 too although target keys leave it out', () => {
    expect(matrixPlace('trt10.9.0-sm89')).toEqual({ row: 'TensorRT 10.9.0 · linux-x86_64 · CC 8.9', column: 'any SKU' });
    expect(matrixPlace('trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb')).toEqual({ row: 'TensorRT 10.9.0 · linux-aarch64 · CC 9.0', column: 'nvidia-gh200-480gb' });
    expect(matrixPlace('trt10.9.0-windows-x86_64-sm89-ampere+')).toEqual({ row: 'TensorRT 10.9.0 · windows-x86_64 · CC 8.9', column: 'ampere+' });
    expect(matrixPlace('ort1.30.0-x86_64-avx2')).toEqual({ row: 'ONNX Runtime 1.30.0 · linux-x86_64 · avx2', column: 'CPU' });
    expect(matrixPlace('ort1.30.0-aarch64-neon')).toEqual({ row: 'ONNX Runtime 1.30.0 · linux-aarch64 · neon', column: 'CPU' });
    expect(matrixPlace('ort1.30.0-windows-x86_64-avx2')).toEqual({ row: 'ONNX Runtime 1.30.0 · windows-x86_64 · avx2', column: 'CPU' });
  });

  it('keeps the same CC on two platforms in two rows', () => {
    const targets = ['trt10.9.0-sm90', 'trt10.9.0-linux-aarch64-sm90'];
    const r: RequestRecord = { ...request, targets, builds: { [targets[0]]: 'x', [targets[1]]: 'a' } };
    const builds = [build('x', targets[0], 'succeeded'), build('a', targets[1], 'succeeded')];
    const out = requestMatrixBody({ request: r, state: 'succeeded', counts: {} }, builds, () => null, new Set(targets)).value;
    const rows = [...out.matchAll(/<th scope="row">([^<]+)/g)].map((m) => m[1]);
    expect(rows).toEqual(['TensorRT 10.9.0 · linux-aarch64 · CC 9.0', 'TensorRT 10.9.0 · linux-x86_64 · CC 9.0']);
  });
});
