/** Platforms in targets and their keys; a key without one is linux-x86_64, so old keys read unchanged. */
import { platformOf } from '../../src/core/platform';
import { gpuTargets } from '../../src/core/tensorrt/gpu-targets';
import { parseTargetKey, targetKey, targetPlatform, toTarget } from '../../src/core/target';

test.each([
  ['trt10.9.0-sm89', 'trt10.9.0-sm89', 'linux-x86_64'],
  ['trt10.9.0-linux-x86_64-sm89', 'trt10.9.0-sm89', 'linux-x86_64'],
  ['trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb', 'trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb', 'linux-aarch64'],
  ['trt10.9.0-linux-aarch64-sm90-same-cc', 'trt10.9.0-linux-aarch64-sm90-same-cc', 'linux-aarch64'],
  ['trt10.9.0-windows-x86_64-sm86-ampere+', 'trt10.9.0-windows-x86_64-sm86-ampere+', 'windows-x86_64'],
  ['ort1.30.0-x86_64-avx2', 'ort1.30.0-x86_64-avx2', 'linux-x86_64'],
  ['ort1.30.0-linux-aarch64-neon', 'ort1.30.0-aarch64-neon', 'linux-aarch64'],
  ['ort1.30.0-windows-x86_64-avx512', 'ort1.30.0-windows-x86_64-avx512', 'windows-x86_64'],
])('%s reads as %s on %s', (key, canonical, platform) => {
  const target = parseTargetKey(key);
  expect(targetKey(target)).toBe(canonical);
  expect(targetPlatform(target)).toBe(platform);
});

test('the default platform is left out of target objects, so build keys made before platforms stay the same', () => {
  expect(toTarget({ toolchain: 'tensorrt', trt: '10.9.0', cc: '8.9', platform: 'linux-x86_64' })).toEqual({ toolchain: 'tensorrt', trt: '10.9.0', cc: '8.9', hwCompat: 'none' });
  expect(() => toTarget({ toolchain: 'onnxruntime', ort: '1.30.0', arch: 'x86_64', isa: 'avx2', platform: 'linux-aarch64' })).toThrow(
    'Invalid target {"toolchain":"onnxruntime","ort":"1.30.0","arch":"x86_64","isa":"avx2","platform":"linux-aarch64"}: expected a platform on x86_64 but received linux-aarch64',
  );
  expect(() => parseTargetKey('trt10.9.0-macos-arm64-sm89')).toThrow(/where platform is linux-x86_64, linux-aarch64, windows-x86_64 and a key without one means linux-x86_64/);
});

test('a worker detects its platform and registers keys with it', () => {
  expect(platformOf('linux', 'x64')).toBe('linux-x86_64');
  expect(platformOf('linux', 'arm64')).toBe('linux-aarch64');
  expect(platformOf('win32', 'x64')).toBe('windows-x86_64');
  expect(() => platformOf('darwin', 'arm64')).toThrow('Expected one of the platforms linux-x86_64, linux-aarch64, windows-x86_64 but this machine is darwin/arm64');
  expect(gpuTargets({ trt: '10.9.0', cc: '9.0', sku: 'nvidia-gh200-480gb', platform: 'linux-aarch64' }).keys).toEqual([
    'trt10.9.0-linux-aarch64-sm90',
    'trt10.9.0-linux-aarch64-sm90-nvidia-gh200-480gb',
    'trt10.9.0-linux-aarch64-sm90-ampere+',
    'trt10.9.0-linux-aarch64-sm90-same-cc',
  ]);
});
