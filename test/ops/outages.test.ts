/**
 * Outages look like outages: with Redis (a private redis-server, stopped and started again) or
 * storage (a real S3-protocol server, closed) down, requests answer 503 within seconds with
 * Retry-After and a message naming what is down; /healthz says which, /readyz says not ready,
 * and everything works again once the dependency is back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startPrivateRedis, type PrivateRedis } from '../../src/local-redis';
import { tinyMlp } from '../models';
import { startFarm, type TestFarm } from '../helpers/farm';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

describe('while Redis is down', () => {
  let dir: string;
  let redis: PrivateRedis;
  let farm: TestFarm;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-outage-redis-'));
    redis = await startPrivateRedis({ dir, persistent: false });
    farm = await startFarm({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await farm.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 at once naming Redis, says so on /healthz and /readyz, and recovers when it is back', async () => {
    expect((await farm.request('GET', '/readyz', { role: null })).status).toBe(200);
    const port = Number(new URL(redis.url).port);
    await redis.stop();

    const { result: response, ms } = await timed(() => farm.request('GET', '/v1/builds', { role: 'reader' }));
    expect(response.status).toBe(503);
    expect(ms).toBeLessThan(5000);
    expect(response.headers.get('retry-after')).toBe('10');
    const body = await response.json();
    expect(body.error.code).toBe('redis_unavailable');
    expect(body.error.message).toMatch(/^Redis \(queues, build records, indexes\) is unavailable/);
    expect(JSON.stringify(body)).not.toMatch(/stack|\/work\/|node_modules/);

    const health = await farm.request('GET', '/healthz', { role: null });
    expect(health.status).toBe(200);
    const report = await health.json();
    expect(report.status).toBe('degraded');
    expect(report.redis.ok).toBe(false);
    expect(report.storage.ok).toBe(true);
    const ready = await farm.request('GET', '/readyz', { role: null });
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('10');
    expect((await ready.json()).notReady[0]).toMatch(/^redis: /);

    redis = await startPrivateRedis({ dir, persistent: false, port });
    // The API reconnects by itself; /readyz is what a load balancer would poll.
    let readyAgain = false;
    for (let i = 0; i < 50 && !readyAgain; i++) {
      readyAgain = (await farm.request('GET', '/readyz', { role: null })).status === 200;
      if (!readyAgain) await new Promise((r) => setTimeout(r, 200));
    }
    expect(readyAgain).toBe(true);
    expect((await farm.request('GET', '/v1/builds', { role: 'reader' })).status).toBe(200);
  });
});

describe('while storage is down', () => {
  let s3: S3TestServer;
  let farm: TestFarm;

  beforeAll(async () => {
    s3 = await startS3Server('kiln-outage');
    farm = await startFarm({ env: s3.env });
  });
  afterAll(async () => {
    await farm.stop();
  });

  it('answers 503 naming storage, and /healthz and /readyz report storage, not Redis', async () => {
    const health = await (await farm.request('GET', '/healthz', { role: null })).json();
    expect(health).toMatchObject({ status: 'ok', redis: { ok: true }, storage: { ok: true, kind: 's3', writable: true } });
    await s3.close();

    const { result: upload, ms } = await timed(() =>
      farm.request('POST', '/v1/models', { role: 'builder', body: tinyMlp(), headers: { 'content-type': 'application/octet-stream' } }),
    );
    expect(upload.status).toBe(503);
    expect(ms).toBeLessThan(10_000);
    expect(upload.headers.get('retry-after')).toBe('10');
    const body = await upload.json();
    expect(body.error.code).toBe('storage_unavailable');
    expect(body.error.message).toMatch(/^Storage \(models and artifacts\) is unavailable \(/);
    expect(body.error.message).not.toContain(os.tmpdir());

    const report = await (await farm.request('GET', '/healthz', { role: null })).json();
    expect(report).toMatchObject({ status: 'degraded', redis: { ok: true }, storage: { ok: false, kind: 's3' } });
    const ready = await farm.request('GET', '/readyz', { role: null });
    expect(ready.status).toBe(503);
    expect((await ready.json()).notReady).toEqual([expect.stringMatching(/^storage: /)]);

    const metrics = await (await farm.request('GET', '/metrics', { role: 'reader' })).text();
    expect(metrics).toMatch(/^kiln_storage_errors_total\{operation="head"\} [1-9]/m);
  });
});

describe('error bodies', () => {
  it('carry stack traces only when NODE_ENV=development is set by name', () => {
    expect(loadConfig({}).development).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }).development).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).development).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development' }).development).toBe(true);
  });
});

describe('logs', () => {
  it('are JSON lines, and every line a request logs carries its request id', async () => {
    const { Writable } = await import('node:stream');
    const lines: any[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l))), done()) });
    const { requestObserver } = await import('../../src/api/request-observer');
    const pino = (await import('pino')).default;
    const { Registry } = await import('prom-client');
    const { createServer } = await import('node:http');
    const observe = requestObserver(pino({ level: 'info' }, sink), new Registry());
    const server = createServer((req, res) => {
      observe(req, res);
      req.log.info('inside the handler');
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const response = await fetch(`http://127.0.0.1:${port}/v1/anything`, { headers: { 'x-request-id': 'client-chosen-42' } });
    expect(response.headers.get('x-request-id')).toBe('client-chosen-42');
    await response.text();
    await new Promise((r) => server.close(r));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.reqId).toBe('client-chosen-42');
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['inside the handler', 'request completed']));
  });

  it('leave successful resolves out, and give a failed one a single line with its request id', async () => {
    const { Writable } = await import('node:stream');
    const lines: any[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l))), done()) });
    const { requestObserver } = await import('../../src/api/request-observer');
    const pino = (await import('pino')).default;
    const { Registry } = await import('prom-client');
    const { createServer } = await import('node:http');
    const registry = new Registry();
    const observe = requestObserver(pino({ level: 'info' }, sink), registry);
    // As the API's resolve fast path answers: before Express, status from the handler.
    const server = createServer((req, res) => {
      observe(req, res);
      (req as { routeTemplate?: string }).routeTemplate = '/v1/resolve';
      const status = req.url?.includes('model=missing') ? 404 : 200;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end('{}');
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const ok = await fetch(`http://127.0.0.1:${port}/v1/resolve?model=m&target=t`);
    await ok.text();
    const failed = await fetch(`http://127.0.0.1:${port}/v1/resolve?model=missing&target=t`);
    await failed.text();
    await new Promise((r) => server.close(r));
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const reqId = failed.headers.get('x-request-id');
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reqId).not.toBe(ok.headers.get('x-request-id'));
    expect(lines).toEqual([
      expect.objectContaining({ reqId, msg: 'request completed', req: expect.objectContaining({ method: 'GET', url: '/v1/resolve?model=missing&target=t' }), res: { statusCode: 404 } }),
    ]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/kiln_http_request_duration_seconds_count\{method="GET",route="\/v1\/resolve",status="200"\} 1/);
    expect(metrics).toMatch(/kiln_http_request_duration_seconds_count\{method="GET",route="\/v1\/resolve",status="404"\} 1/);
  });
});
