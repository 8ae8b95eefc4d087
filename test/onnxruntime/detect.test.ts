import { readFileSync } from 'node:fs';
import { parseTargetKey, targetKey } from '../../src/core/target';
import { parseCpuInfo } from '../../src/core/cpu';
import { detectOnnxRuntime, localTargetKey } from '../../src/worker/toolchains/onnxruntime/detect';
import { onnxRuntimeToolchain } from '../../src/worker/toolchains/onnxruntime';

describe('detectOnnxRuntime', () => {
  test('serves exactly one target: the installed ONNX Runtime on this CPU\'s ISA', async () => {
    const caps = await onnxRuntimeToolchain.detect();
    const installed = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;
    const cpu = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'), process.arch);
    expect(caps).toMatchObject({ toolchain: 'onnxruntime', version: installed });
    expect(caps.unavailableReason).toBeUndefined();
    expect(caps.targets).toEqual([{ toolchain: 'onnxruntime', ort: installed, arch: cpu.arch, isa: cpu.isa }]);
    expect(caps.hardware).toMatchObject({ cpuModel: cpu.model, arch: cpu.arch, isa: cpu.isa });
    expect((caps.hardware.isaFlags as string[]).every((flag) => cpu.flags.includes(flag))).toBe(true);
    // The key round-trips through the shared parser, so it can name a queue.
    expect(parseTargetKey(targetKey(caps.targets[0]))).toEqual(caps.targets[0]);
    expect(localTargetKey()).toBe(targetKey(caps.targets[0]));
  });

  test('without a readable cpuinfo it serves nothing and says why', async () => {
    const caps = await detectOnnxRuntime('/nonexistent/cpuinfo');
    expect(caps.targets).toEqual([]);
    expect(caps.unavailableReason).toMatch(/^Expected to read the CPU's features from \/nonexistent\/cpuinfo/);
  });
});
