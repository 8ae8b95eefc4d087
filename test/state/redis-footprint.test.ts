/**
 * Kiln issue 11's size budget: what one finished build leaves in Redis for good (its record, spec,
 * index entries, its request and its published-artifact index entry) stays within 4 KB. Measured as
 * the bench does (bench/lib/measure-builds.ts): MEMORY USAGE of every key under the farm's prefix
 * before and after, keys with a TTL (the log list, the dashboard's phase times) counted apart.
 */
import { Redis } from 'ioredis';
import { REDIS_URL, startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { tinyConv } from '../models';

const BUDGET_BYTES = 4 * 1024;

let farm: TestFarm;
let redis: Redis;
let target: string;

beforeAll(async () => {
  farm = await startFarm({ env: { KILN_LOG_LEVEL: 'error' } });
  redis = new Redis(REDIS_URL);
  target = (await farm.startWorker()).targets[0];
  const res = await farm.request('POST', '/v1/models?name=footprint', { role: 'builder', body: tinyConv({ seed: 21 }), headers: { 'content-type': 'application/octet-stream' } });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await farm?.stop();
  redis?.disconnect();
});

async function build(iterations: number): Promise<string> {
  const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'footprint', targets: [target], options: { benchmark: { iterations } } } });
  expect(res.status).toBe(202);
  const buildKey = (await res.json()).builds[0].buildKey as string;
  const record = await waitForBuild(farm, buildKey, 120_000);
  expect(record.state).toBe('succeeded');
  return buildKey;
}

/** Bytes per key under the prefix, and whether the key expires. */
async function keyBytes(): Promise<Map<string, { bytes: number; expires: boolean }>> {
  const out = new Map<string, { bytes: number; expires: boolean }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${farm.config.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const [bytes, ttl] = await Promise.all([redis.memory('USAGE', key), redis.pttl(key)]);
      if (bytes !== null) out.set(key, { bytes: Number(bytes), expires: ttl > 0 });
    }
  } while (cursor !== '0');
  return out;
}

test('a finished build leaves at most 4 KB in Redis for good', async () => {
  // A first build creates what every later build shares (worker registry, queue, model indexes).
  await build(50);
  const before = await keyBytes();
  const buildKey = await build(51);
  const after = await keyBytes();

  let persistent = 0;
  const grown: string[] = [];
  for (const [key, { bytes, expires }] of after) {
    if (expires) continue;
    const added = bytes - (before.get(key)?.bytes ?? 0);
    if (added > 0) grown.push(`${key.slice(farm.config.prefix.length + 1)}: ${added} B`);
    persistent += added;
  }
  // The build is really measured: its record and spec are among what grew.
  expect(grown.some((g) => g.startsWith(`build:${buildKey}:`))).toBe(true);
  expect(grown.some((g) => g.startsWith(`build:${buildKey}:spec`))).toBe(true);
  if (persistent > BUDGET_BYTES) throw new Error(`Expected at most ${BUDGET_BYTES} B of persistent Redis per finished build but it left ${persistent} B:\n${grown.join('\n')}`);
  expect(persistent).toBeGreaterThan(0);
});

test('a published build is answered with its report, read from its artifact set', async () => {
  const buildKey = await build(52);
  // Redis keeps no copy of the report...
  expect(await redis.hexists(`${farm.config.prefix}:build:${buildKey}`, 'report')).toBe(0);
  // ...and the API answers it from the published report.json.
  const res = await farm.request('GET', `/v1/builds/${buildKey}`, { role: 'reader' });
  const body = await res.json();
  expect(body.report).toMatchObject({ buildKey, targetKey: target, validation: { verdict: 'pass' } });
  expect(body.report.benchmark.rows.length).toBeGreaterThan(0);
  const list = await farm.request('GET', `/v1/builds?limit=5`, { role: 'reader' });
  const listed = (await list.json()).builds.find((b: { buildKey: string }) => b.buildKey === buildKey);
  expect(listed.report.benchmark.rows).toEqual(body.report.benchmark.rows);
});

test('a record written before the split (spec, report and request set in Redis) still reads the same', async () => {
  const fresh = await build(53);
  const { ctx } = farm.api;
  const record = (await ctx.builds.get(fresh))!;
  const res = await farm.request('GET', `/v1/builds/${fresh}`, { role: 'reader' });
  const report = (await res.json()).report;
  const requests = await ctx.builds.requestIds(fresh);
  // Rewrite it as the old code stored it: the build key, spec and report in the hash, requests in a set of their own.
  const key = `${farm.config.prefix}:build:${fresh}`;
  const oldReport = { ...report, warnings: ['kept in the old record'] };
  await redis.del(`${key}:spec`);
  await redis.hdel(key, ...requests.map((id) => `request:${id}`));
  await redis.hset(key, { id: fresh, spec: JSON.stringify(record.spec), report: JSON.stringify(oldReport), cancelRequested: 'false' });
  await redis.sadd(`${key}:requests`, ...requests);

  const old = (await ctx.builds.get(fresh))!;
  expect(old.buildKey).toBe(fresh);
  expect(old.spec).toEqual(record.spec);
  expect(old.report).toEqual(oldReport);
  expect(await ctx.builds.requestIds(fresh)).toEqual(requests);
  const answered = await (await farm.request('GET', `/v1/builds/${fresh}`, { role: 'reader' })).json();
  expect(answered.report.warnings).toEqual(['kept in the old record']);
  expect(answered.spec).toEqual(record.spec);
});
