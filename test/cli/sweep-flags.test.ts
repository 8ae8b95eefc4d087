import { bestFromFlag, splitValues, sweepFromFlags } from '../../src/cli/sweep-flags';

describe('kiln build --sweep and --best', () => {
  it('reads each value like an --option value, and keeps commas inside JSON together', () => {
    expect(splitValues('[],["fp16","int8"],{"a":1}')).toEqual(['[]', '["fp16","int8"]', '{"a":1}']);
    expect(
      sweepFromFlags(['onnxruntime.graphOptimizationLevel=basic,all', 'onnxruntime.intraOpNumThreads=1,2,4', 'tensorrt.precision=[],["fp16"]']),
    ).toEqual({
      'onnxruntime.graphOptimizationLevel': ['basic', 'all'],
      'onnxruntime.intraOpNumThreads': [1, 2, 4],
      'tensorrt.precision': [[], ['fp16']],
    });
    expect(sweepFromFlags([])).toBeUndefined();
  });

  it('says what it expects', () => {
    expect(() => sweepFromFlags(['onnxruntime.intraOpNumThreads'])).toThrow('Expected --sweep option.path=VALUE,VALUE,... (e.g. onnxruntime.intraOpNumThreads=1,2,4) but received "onnxruntime.intraOpNumThreads"');
    expect(() => sweepFromFlags(['=1,2'])).toThrow(/^Expected --sweep/);
    expect(bestFromFlag('throughput:8')).toEqual({ metric: 'throughput', batch: 8 });
    expect(bestFromFlag('latency')).toEqual({ metric: 'latency' });
    expect(() => bestFromFlag('p99')).toThrow('Expected --best latency or throughput, optionally with :BATCH (e.g. throughput:8), but received "p99"');
  });
});
