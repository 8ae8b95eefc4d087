import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkPlanFile, PLAN_MAGIC, PlanHeaderError, readPlanHeader } from '../../src/cli/plan-check';

/** A plan header as TensorRT writes it, followed by some body bytes. */
function plan(version: [number, number, number, number], serialization = 0, magic = PLAN_MAGIC): Buffer {
  const bytes = Buffer.alloc(64, 0xab);
  bytes.writeUInt32LE(magic, 0);
  bytes.writeUInt32LE(serialization, 4);
  Buffer.from(version).copy(bytes, 24);
  return bytes;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-cli-plan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Buffer): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, bytes);
  return p;
}

test('the magic is the bytes "ftrt"', () => {
  expect(plan([10, 9, 0, 34]).subarray(0, 4).toString('latin1')).toBe('ftrt');
});

test('reads the TensorRT version and serialization version', () => {
  expect(readPlanHeader(plan([10, 9, 0, 34]))).toEqual({ magic: PLAN_MAGIC, serializationVersion: 0, trtVersion: [10, 9, 0, 34] });
});

test('a plan made by the requested TensorRT passes, with or without the build number', async () => {
  const p = await file('ok.plan', plan([10, 9, 0, 34]));
  await expect(checkPlanFile(p, '10.9.0', 'engine.plan')).resolves.toMatchObject({ trtVersion: [10, 9, 0, 34] });
  await expect(checkPlanFile(p, '10.9.0.34', 'engine.plan')).resolves.toBeDefined();
});

test('a plan made by another TensorRT is refused, naming both versions', async () => {
  const p = await file('other.plan', plan([10, 8, 0, 43]));
  await expect(checkPlanFile(p, '10.9.0', 'engine.plan')).rejects.toThrow(
    'Expected a plan made by TensorRT 10.9.0 for engine.plan but received one made by TensorRT 10.8.0.43; TensorRT refuses to load it',
  );
  await expect(checkPlanFile(await file('build.plan', plan([10, 9, 0, 34])), '10.9.0.35', 'engine.plan')).rejects.toThrow(PlanHeaderError);
});

test('not a plan: wrong magic, too short, or an old serialization version', async () => {
  await expect(checkPlanFile(await file('onnx.plan', Buffer.from('\x08\x07\x12\x04onnx-and-more-bytes-here-1234')), '10.9.0', 'engine.plan')).rejects.toThrow(
    /Expected a TensorRT plan starting with "ftrt" for engine.plan but received/,
  );
  await expect(checkPlanFile(await file('short.plan', Buffer.from('ftrt')), '10.9.0', 'engine.plan')).rejects.toThrow(
    'Expected a TensorRT plan of at least 28 bytes for engine.plan but received 4',
  );
  await expect(checkPlanFile(await file('old.plan', plan([8, 5, 3, 1], 213)), '8.5.3', 'engine.plan')).rejects.toThrow(
    'Expected serialization version 0 (TensorRT >= 8.6) in engine.plan but received 213',
  );
});

test('the requested version must be major.minor.patch', async () => {
  const p = await file('v.plan', plan([10, 9, 0, 34]));
  await expect(checkPlanFile(p, '10.9', 'engine.plan')).rejects.toThrow('Expected a TensorRT version as major.minor.patch (e.g. 10.9.0) but received "10.9"');
});
