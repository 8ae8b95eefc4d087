import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { detectCpu, isaOf, parseCpuInfo } from '../../src/core/cpu';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

describe('parseCpuInfo', () => {
  test('Intel Ice Lake with AVX-512 is avx512', () => {
    const cpu = parseCpuInfo(fixture('intel-icelake-avx512.txt'), 'x64');
    expect(cpu).toMatchObject({ model: 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', cores: 2, arch: 'x86_64', isa: 'avx512' });
    expect(cpu.flags).toEqual(expect.arrayContaining(['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx2', 'fma']));
    expect(cpu.flags).toEqual([...cpu.flags].sort());
  });

  test('AMD Zen 2 (AVX2 and FMA, no AVX-512) is avx2', () => {
    expect(parseCpuInfo(fixture('amd-zen2-avx2.txt'), 'x86_64')).toMatchObject({
      model: 'AMD EPYC 7742 64-Core Processor',
      cores: 4,
      isa: 'avx2',
    });
  });

  test('a Core 2 (SSE4.1, no AVX) is baseline', () => {
    expect(parseCpuInfo(fixture('intel-core2-baseline.txt'), 'x86_64')).toMatchObject({ cores: 2, isa: 'baseline' });
  });

  test('an arm64 Graviton 2 is neon, named by implementer and part', () => {
    const cpu = parseCpuInfo(fixture('arm64-graviton2.txt'), 'arm64');
    expect(cpu).toMatchObject({ model: 'ARM implementer 0x41 part 0xd0c', cores: 2, arch: 'aarch64', isa: 'neon' });
    expect(cpu.flags).toContain('asimddp');
  });

  test('ISA rules: AVX512F alone is avx512 (16-float NCHWc blocks), AVX2 without FMA is baseline', () => {
    expect(isaOf('x86_64', new Set(['avx512f', 'avx2', 'fma']))).toBe('avx512');
    expect(isaOf('x86_64', new Set(['avx2']))).toBe('baseline');
    expect(isaOf('x86_64', new Set(['avx2', 'fma']))).toBe('avx2');
    expect(() => isaOf('aarch64', new Set(['fp']))).toThrow('Expected an aarch64 CPU with Advanced SIMD (asimd) but its flags lack asimd');
  });

  test('an unknown architecture is refused with what is accepted', () => {
    expect(() => parseCpuInfo(fixture('arm64-graviton2.txt'), 'riscv64')).toThrow(
      'Expected a CPU architecture of x86_64 or aarch64 but received riscv64',
    );
  });
});

describe('detectCpu', () => {
  test('reads this machine: its ISA follows from its own /proc/cpuinfo flags', () => {
    const cpu = detectCpu();
    const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^(?:flags|Features)\s*:(.*)$/m)?.[1].trim().split(/\s+/));
    expect(cpu.cores).toBe(os.availableParallelism());
    expect(cpu.model).not.toBe('unknown');
    if (cpu.arch === 'aarch64') expect(cpu.isa).toBe('neon');
    else if (flags.has('avx512f')) expect(cpu.isa).toBe('avx512');
    else if (flags.has('avx2') && flags.has('fma')) expect(cpu.isa).toBe('avx2');
    else expect(cpu.isa).toBe('baseline');
  });

  test('a missing cpuinfo file is an error that says why it matters', () => {
    expect(() => detectCpu('/nonexistent/cpuinfo')).toThrow(/^Expected to read the CPU's features from \/nonexistent\/cpuinfo but could not/);
  });
});
