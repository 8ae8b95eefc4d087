/**
 * Lists every Redis key a farm holds before and after a few tiny builds, with MEMORY USAGE and TTL,
 * grouped by key pattern (build keys, model ids, request ids and numbers folded into placeholders).
 * Run: node --import tsx bench/redis-footprint.ts [builds (Default: 5)] [warm-up builds (Default: 1)]
 * The warm-up builds are not counted: they create what every build shares (worker registry, queue,
 * model indexes) and, with about 20 of them, fill BullMQ's capped event stream as a farm's is.
 */
import { Redis } from 'ioredis';
import { REDIS_URL, startFarm, waitForBuild } from '../test/helpers/farm';
import { tinyConv } from '../test/models';

interface Entry { bytes: number; ttl: number; type: string }

async function snapshot(redis: Redis, prefix: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const [bytes, ttl, type] = await Promise.all([redis.memory('USAGE', key), redis.pttl(key), redis.type(key)]);
      out.set(key, { bytes: Number(bytes ?? 0), ttl, type });
    }
  } while (cursor !== '0');
  return out;
}

function pattern(key: string, prefix: string): string {
  return key
    .slice(prefix.length + 1)
    .replace(/[0-9a-f]{64}/g, '<sha>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\b\d+\b/g, '<n>');
}

async function main() {
  const builds = Number(process.argv[2] ?? 5);
  const warmups = Number(process.argv[3] ?? 1);
  const farm = await startFarm({ env: { KILN_LOG_LEVEL: 'error', NODE_ENV: 'production', KILN_RATE_LIMIT_RPS: '0' } });
  const redis = new Redis(REDIS_URL);
  try {
    const worker = await farm.startWorker();
    const target = worker.targets[0];
    const up = await farm.request('POST', '/v1/models?name=footprint', { role: 'builder', body: tinyConv({ seed: 3 }), headers: { 'content-type': 'application/octet-stream' } });
    if (up.status >= 300) throw new Error(await up.text());
    const submit = async (i: number) => {
      const res = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'footprint', targets: [target], options: { benchmark: { iterations: 50 + i } } } });
      const body = await res.json();
      const key = body.builds[0].buildKey as string;
      const b = await waitForBuild(farm, key, 600_000);
      if (b.state !== 'succeeded') throw new Error(`build ${key} ${b.state}: ${b.error}`);
      return key;
    };
    for (let i = 0; i < warmups; i++) await submit(200 + i);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await snapshot(redis, farm.config.prefix);
    const keys: string[] = [];
    // AT_ONCE=1 submits them all before waiting, as the bench's builds-per-minute run does.
    if (process.env.AT_ONCE) keys.push(...(await Promise.all(Array.from({ length: builds }, (_, i) => submit(i + 1)))));
    else for (let i = 1; i <= builds; i++) keys.push(await submit(i));
    await new Promise((r) => setTimeout(r, 1500));
    const after = await snapshot(redis, farm.config.prefix);
    const groups = new Map<string, { type: string; keysBefore: number; keysAfter: number; persistent: number; expiring: number }>();
    const add = (key: string, e: Entry, sign: number) => {
      const p = pattern(key, farm.config.prefix);
      const g = groups.get(p) ?? { type: e.type, keysBefore: 0, keysAfter: 0, persistent: 0, expiring: 0 };
      if (sign > 0) g.keysAfter++;
      else g.keysBefore++;
      if (e.ttl > 0) g.expiring += sign * e.bytes;
      else g.persistent += sign * e.bytes;
      groups.set(p, g);
    };
    for (const [k, e] of before) add(k, e, -1);
    for (const [k, e] of after) add(k, e, 1);
    const rows = [...groups.entries()].sort((a, b) => b[1].persistent + b[1].expiring - (a[1].persistent + a[1].expiring));
    let tp = 0, te = 0;
    console.log(`| key pattern | type | keys before -> after | persistent bytes / build | expiring bytes / build |`);
    for (const [p, g] of rows) {
      tp += g.persistent; te += g.expiring;
      console.log(`| ${p} | ${g.type} | ${g.keysBefore} -> ${g.keysAfter} | ${(g.persistent / builds).toFixed(0)} | ${(g.expiring / builds).toFixed(0)} |`);
    }
    console.log(`total per build: persistent ${(tp / builds).toFixed(0)} B, expiring ${(te / builds).toFixed(0)} B`);
    // Field sizes of one build record.
    const rec = await redis.hgetall(`${farm.config.prefix}:build:${keys[0]}`);
    for (const [f, v] of Object.entries(rec).sort((a, b) => b[1].length - a[1].length)) console.log(`  field ${f}: ${v.length} chars`);
    if (process.env.DUMP) for (const [k] of after) if (!before.has(k)) console.log(k, after.get(k));
  } finally {
    await farm.stop();
    redis.disconnect();
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
