/** What a worker registers: platform, targets served and refused with reasons, timing caches. */
import { gpuTargets } from '../../src/core/tensorrt/gpu-targets';
import { registrationOf } from '../../src/worker/registration';

test('a GPU on TensorRT 10.3 serves its CC, SKU and ampere+ targets and says why not same-cc', () => {
  const t = gpuTargets({ trt: '10.3.0', cc: '8.0', sku: 'nvidia-a100-sxm4-40gb', platform: 'linux-aarch64' });
  const registration = registrationOf([{ toolchain: 'tensorrt', version: '10.3.0', targets: [t.cc, t.sku, ...t.hwCompat], refused: t.refused, hardware: { gpu: { index: 0 } } }], 'linux-aarch64');
  expect(registration).toEqual({
    platform: 'linux-aarch64',
    targets: ['trt10.3.0-linux-aarch64-sm80', 'trt10.3.0-linux-aarch64-sm80-nvidia-a100-sxm4-40gb', 'trt10.3.0-linux-aarch64-sm80-ampere+'],
    toolchains: { tensorrt: '10.3.0' },
    hardware: { gpu: { index: 0 } },
    refused: [{ target: 'trt10.3.0-linux-aarch64-sm80-same-cc', reason: 'TensorRT 10.3.0 cannot build --hardwareCompatibilityLevel=sameComputeCapability' }],
    notes: ['tensorrt: not trt10.3.0-linux-aarch64-sm80-same-cc: TensorRT 10.3.0 cannot build --hardwareCompatibilityLevel=sameComputeCapability'],
    timingCaches: ['timing-caches/trt10.3.0-linux-aarch64-sm80-nvidia-a100-sxm4-40gb.cache'],
  });
});

test('a Turing GPU refuses ampere+; a GPU without trtexec serves nothing and says why', () => {
  expect(gpuTargets({ trt: '10.9.0', cc: '7.5', sku: 'nvidia-tesla-t4' }).refused).toEqual([
    { target: 'trt10.9.0-sm75-ampere+', reason: 'ampere+ engines are built on CC 8.0 or later, this GPU is CC 7.5' },
  ]);
  const none = registrationOf([{ toolchain: 'tensorrt', targets: [], hardware: {}, unavailableReason: 'no trtexec on the PATH' }], 'linux-x86_64');
  expect(none).toMatchObject({ targets: [], toolchains: { tensorrt: 'unavailable: no trtexec on the PATH' }, notes: ['tensorrt: no trtexec on the PATH'], timingCaches: [] });
});
