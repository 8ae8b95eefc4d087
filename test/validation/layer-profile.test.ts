import { compareLayerProfiles, makeLayerProfile, summarizeLayerProfile, TOP_LAYERS } from '../../src/core/layer-profile';
import { parseOrtProfile } from '../../src/worker/toolchains/onnxruntime/profile';
import { parseTrtexecProfile } from '../../src/worker/toolchains/tensorrt/layer-profile';

const node = (name: string, op: string, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, dur, args: { op_name: op } });

describe('parseOrtProfile', () => {
  test("each node's first (warm-up) event is dropped and the rest averaged; other events are ignored", () => {
    const trace = [
      { cat: 'Session', name: 'model_loading_uri', dur: 5000 },
      node('Conv_0', 'Conv', 900),
      { cat: 'Node', name: 'Conv_0_fence_before', dur: 1 },
      node('Relu_1', 'Relu', 300),
      node('Conv_0', 'Conv', 300),
      node('Relu_1', 'Relu', 100),
      node('Conv_0', 'Conv', 500),
      node('Relu_1', 'Relu', 100),
    ];
    const profile = parseOrtProfile(trace, 4);
    expect(profile).toEqual({
      schema: 1,
      source: 'onnxruntime-profiler',
      batch: 4,
      runs: 2,
      totalMs: 0.5,
      layers: [
        { name: 'Conv_0', opType: 'Conv', ms: 0.4, share: 0.8 },
        { name: 'Relu_1', opType: 'Relu', ms: 0.1, share: expect.closeTo(0.2, 10) },
      ],
    });
  });

  test('anything but a trace array is refused with what it was', () => {
    expect(() => parseOrtProfile({}, 1)).toThrow("Expected ONNX Runtime's profile to be a JSON array of trace events but received object");
  });
});

describe('parseTrtexecProfile', () => {
  test("trtexec's exportJSONProfile layout, with types from the layer info", () => {
    const json = [
      { count: 120 },
      { name: 'Conv_0 + Relu_1', timeMs: 12, averageMs: 0.1, medianMs: 0.1, percentage: 25 },
      { name: 'Gemm_3', timeMs: 36, averageMs: 0.3, medianMs: 0.3, percentage: 75 },
    ];
    const profile = parseTrtexecProfile(json, 1, new Map([['Gemm_3', 'CaskGemmMatrixMultiply']]));
    expect(profile.runs).toBe(120);
    expect(profile.source).toBe('trtexec --exportProfile');
    expect(profile.layers.map((l) => [l.name, l.opType, l.share])).toEqual([
      ['Gemm_3', 'CaskGemmMatrixMultiply', expect.closeTo(0.75, 10)],
      ['Conv_0 + Relu_1', null, expect.closeTo(0.25, 10)],
    ]);
  });

  test('an empty or foreign file is refused', () => {
    expect(() => parseTrtexecProfile([], 1)).toThrow(`Expected trtexec's --exportProfile to be a JSON array starting with { "count": N } but received []`);
  });
});

describe('layer profiles', () => {
  const a = makeLayerProfile('onnxruntime-profiler', 1, 10, [
    { name: 'conv', opType: 'Conv', ms: 2 },
    { name: 'bn', opType: 'BatchNormalization', ms: 0.5 },
    { name: 'fc', opType: 'Gemm', ms: 1 },
  ]);
  const b = makeLayerProfile('onnxruntime-profiler', 1, 10, [
    { name: 'conv', opType: 'Conv', ms: 1 },
    { name: 'fc', opType: 'Gemm', ms: 1.2 },
    { name: 'fused_conv', opType: 'FusedConv', ms: 0.3 },
  ]);

  test('the summary keeps the top layers, slowest first', () => {
    const many = makeLayerProfile('x', 1, 1, Array.from({ length: 25 }, (_, i) => ({ name: `n${i}`, opType: 'Add', ms: i + 1 })));
    const summary = summarizeLayerProfile(many);
    expect(summary.layerCount).toBe(25);
    expect(summary.top).toHaveLength(TOP_LAYERS);
    expect(summary.top[0]).toMatchObject({ name: 'n24', ms: 25 });
    expect(summary.file).toBe('layer-profile.json');
  });

  test('two profiles compare by layer name: largest change first, then layers only one has', () => {
    const c = compareLayerProfiles(a, b);
    expect(c.a).toEqual({ totalMs: 3.5, source: 'onnxruntime-profiler', batch: 1, layers: 3 });
    expect(c.layers.map((l) => [l.name, l.aMs, l.bMs, l.deltaMs === null ? null : Math.round(l.deltaMs * 100) / 100])).toEqual([
      ['conv', 2, 1, -1],
      ['fc', 1, 1.2, 0.2],
      ['bn', 0.5, null, null],
      ['fused_conv', null, 0.3, null],
    ]);
    expect(c.layers[0].ratio).toBe(0.5);
  });
});
