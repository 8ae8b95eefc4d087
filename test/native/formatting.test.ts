/** How NVML's raw numbers are shown. */
import { formatCudaVersion, formatPciDeviceId, nvmlReturnName } from '../../src/native';

test('CUDA driver versions', () => {
  expect(formatCudaVersion(13000)).toBe('13.0');
  expect(formatCudaVersion(12080)).toBe('12.8');
  expect(formatCudaVersion(11040)).toBe('11.4');
});

test('PCI device ids as nvidia-smi prints them', () => {
  expect(formatPciDeviceId(0x233010de)).toBe('0x233010DE');
  expect(formatPciDeviceId(0x1eb810de)).toBe('0x1EB810DE');
  expect(formatPciDeviceId(0x10de)).toBe('0x000010DE');
});

test('NVML return codes by name', () => {
  expect(nvmlReturnName(9)).toBe('NVML_ERROR_DRIVER_NOT_LOADED');
  expect(nvmlReturnName(15)).toBe('NVML_ERROR_GPU_IS_LOST');
  expect(nvmlReturnName(999)).toBe('NVML_ERROR_UNKNOWN');
  expect(nvmlReturnName(123)).toBe('NVML_ERROR_123');
});
