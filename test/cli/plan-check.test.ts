import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkPlanFile, PlanHeaderError } from '../../src/cli/plan-check';

const PLAN_TAG = 0x74727466;

/** A plan header as TensorRT writes it (written out here, not by the code under test), then body bytes. */
function plan(version: [number, number, number, number], serialization = 0, tag = PLAN_TAG): Buffer {
  const bytes = Buffer.alloc(64, 0xab);
  bytes.writeUInt32LE(tag, 0);
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
  const p = path.join(dir, `.${name}.0123.part`);
  await writeFile(p, bytes);
  return p;
}

test('the tag is the bytes "ftrt"', () => {
  expect(plan([10, 9, 0, 34]).subarray(0, 4).toString('latin1')).toBe('ftrt');
});

test('a plan made by the requested TensorRT passes, with or without the build number', async () => {
  const p = await file('ok', plan([10, 9, 0, 34]));
  await expect(checkPlanFile(p, '10.9.0', 'engine.plan')).resolves.toMatchObject({ serializationVersion: 0, trt: { major: 10, minor: 9, patch: 0, build: 34 } });
  await expect(checkPlanFile(p, '10.9.0.34', 'engine.plan')).resolves.toBeDefined();
});

test('a plan made by another TensorRT is refused, naming the file as the user knows it and both versions', async () => {
  const p = await file('other', plan([10, 8, 0, 43]));
  await expect(checkPlanFile(p, '10.9.0', 'engine.plan')).rejects.toThrow(
    'Expected a plan made by TensorRT 10.9.0 but engine.plan was made by 10.8.0.43; TensorRT would refuse to load it',
  );
  await expect(checkPlanFile(await file('build', plan([10, 9, 0, 34])), '10.9.0.35', 'engine.plan')).rejects.toThrow(PlanHeaderError);
});

test('not a plan: wrong tag, too short, or an old serialization version', async () => {
  await expect(checkPlanFile(await file('onnx', Buffer.from('\x08\x07\x12\x04onnx-and-more-bytes-here-1234')), '10.9.0', 'engine.plan')).rejects.toThrow(
    /Expected a TensorRT plan starting with "ftrt" .* but engine.plan starts with/,
  );
  await expect(checkPlanFile(await file('short', Buffer.from('ftrt')), '10.9.0', 'engine.plan')).rejects.toThrow(
    'Expected a TensorRT plan of at least 28 bytes but engine.plan has 4',
  );
  await expect(checkPlanFile(await file('old', plan([8, 5, 3, 1], 213)), '8.5.3', 'engine.plan')).rejects.toThrow(
    'Expected serialization version 0 (TensorRT >= 8.6) in engine.plan but received 213',
  );
});

test('the requested version must be a TensorRT version', async () => {
  const p = await file('v', plan([10, 9, 0, 34]));
  await expect(checkPlanFile(p, 'ten', 'engine.plan')).rejects.toThrow('Expected a TensorRT version like 10.9.0 or 8.6.1.6 but received "ten"');
});
