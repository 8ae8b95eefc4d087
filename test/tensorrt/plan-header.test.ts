import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlanHeaderError } from '../../src/core/tensorrt/errors';
import { checkPlan, encodePlanHeader, parsePlanHeader, readPlanHeader } from '../../src/core/tensorrt/plan-header';

describe('plan header', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const plan = async (name: string, bytes: Buffer) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  const v10 = { major: 10, minor: 9, patch: 0, build: 34 };

  test('the layout TensorRT writes: ftrt, serialization version 0, version in bytes 24..27', async () => {
    const header = encodePlanHeader(v10);
    expect(header.subarray(0, 4).toString('latin1')).toBe('ftrt');
    expect(header.readUInt32LE(0)).toBe(0x74727466);
    expect(header.readUInt32LE(4)).toBe(0);
    expect([...header.subarray(24, 28)]).toEqual([10, 9, 0, 34]);
    const path = await plan('good.plan', Buffer.concat([header, Buffer.alloc(100, 7)]));
    expect(await readPlanHeader(path)).toEqual({ tag: 0x74727466, serializationVersion: 0, trt: v10 });
    expect(await checkPlan(path, '10.9.0')).toMatchObject({ trt: v10 });
    expect(await checkPlan(path, '10.9.0.34')).toMatchObject({ trt: v10 });
  });

  test('a buffer can be read without a file', async () => {
    expect((await readPlanHeader(encodePlanHeader({ major: 8, minor: 6, patch: 1, build: 6 }))).trt).toEqual({ major: 8, minor: 6, patch: 1, build: 6 });
  });

  test('another TensorRT version is refused, naming both', async () => {
    const path = await plan('old.plan', encodePlanHeader({ major: 8, minor: 6, patch: 1, build: 6 }));
    await expect(checkPlan(path, '10.9.0')).rejects.toThrow(new PlanHeaderError(`Expected a plan made by TensorRT 10.9.0 but ${path} was made by 8.6.1.6`));
    const otherBuild = await plan('build.plan', encodePlanHeader({ ...v10, build: 33 }));
    await expect(checkPlan(otherBuild, '10.9.0')).resolves.toBeDefined();
    await expect(checkPlan(otherBuild, '10.9.0.34')).rejects.toThrow(`Expected a plan made by TensorRT 10.9.0.34 but ${otherBuild} was made by 10.9.0.33`);
  });

  test('a wrong tag, a short file and another serialization version are refused', async () => {
    const notPlan = await plan('model.onnx', Buffer.concat([Buffer.from('\x08\x08\x12\x10kiln-test-models'), Buffer.alloc(20)]));
    await expect(checkPlan(notPlan, '10.9.0')).rejects.toThrow(
      `Expected a TensorRT plan starting with "ftrt" (0x74727466) but ${notPlan} starts with 0x10120808 (....)`,
    );
    const bad = encodePlanHeader(v10);
    bad.write('xtrt', 0, 'latin1');
    expect(() => parsePlanHeader(bad)).toThrow('Expected a TensorRT plan starting with "ftrt" (0x74727466) but the buffer starts with 0x74727478 (xtrt)');
    const short = await plan('short.plan', encodePlanHeader(v10).subarray(0, 20));
    await expect(readPlanHeader(short)).rejects.toThrow(new PlanHeaderError(`Expected a TensorRT plan of at least 28 bytes but ${short} has 20`));
    const serialized = await plan('ser.plan', encodePlanHeader(v10, 3));
    await expect(checkPlan(serialized, '10.9.0')).rejects.toThrow(`Expected serialization version 0 (TensorRT >= 8.6) in ${serialized} but received 3`);
  });
});
