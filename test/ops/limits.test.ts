/**
 * Limits answer like limits: 413 for bodies and inline inputs over their size, 429 with
 * Retry-After for rates and quotas, nothing read before the token is checked, slow anonymous
 * bodies and headers cut, and a slow authorized upload still accepted.
 */
import net from 'node:net';
import { tinyConv, tinyMlp } from '../models';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';

const octets = { 'content-type': 'application/octet-stream' };

/** Sends raw bytes on a socket; resolves with what came back once the server closed it. */
function rawExchange(port: number, write: (socket: net.Socket) => void): Promise<{ text: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => write(socket));
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
  });
}

describe('limits', () => {
  let farm: TestFarm;
  let port: number;

  beforeAll(async () => {
    farm = await startFarm({
      env: {
        KILN_MAX_SUBMIT_BYTES: '20000',
        KILN_MAX_INLINE_INPUTS_BYTES: '2000',
        KILN_QUOTA_BUILDS_PER_HOUR: '3',
        KILN_QUOTA_CONCURRENT_BUILDS: '2',
        KILN_QUOTA_STORED_BYTES: String(tinyConv().length + 10),
        KILN_REQUEST_TIMEOUT_MS: '800',
        KILN_HEADERS_TIMEOUT_MS: '800',
        KILN_UPLOAD_IDLE_TIMEOUT_MS: '5000',
        KILN_SIGN_IN_ATTEMPTS: '2',
      },
    });
    port = Number(new URL(farm.url).port);
    expect((await farm.request('POST', '/v1/models?name=lim', { role: 'builder', body: tinyConv(), headers: octets })).status).toBe(201);
  });
  afterAll(() => farm.stop());

  it('reads no body before the token and role are checked', async () => {
    const junk = '{"a":' + '['.repeat(20000);
    const anonymous = await farm.request('POST', '/v1/builds', { role: null, body: junk, headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
    const reader = await farm.request('POST', '/v1/builds', { role: 'reader', body: junk, headers: { 'content-type': 'application/json' } });
    expect(reader.status).toBe(403);
    // The same bytes from a builder are read, and refused for what they are.
    const builder = await farm.request('POST', '/v1/builds', { role: 'builder', body: junk, headers: { 'content-type': 'application/json' } });
    expect(builder.status).toBe(413);
  });

  it('answers 413 for a build request over KILN_MAX_SUBMIT_BYTES and for inline inputs over theirs', async () => {
    const big = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: ['ort1.30.0-x86_64-avx2'], pad: 'x'.repeat(30000) } });
    expect(big.status).toBe(413);
    expect((await big.json()).error.message).toBe('Request body is over the limit of 20000 bytes (KILN_MAX_SUBMIT_BYTES)');

    const inputs = { x: { dims: [1, 3, 16, 16], data: Array.from({ length: 768 }, (_, i) => i / 768) } };
    const inline = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: ['ort1.30.0-x86_64-avx2'], options: { validation: { inputs } } } });
    expect(inline.status).toBe(413);
    const message = (await inline.json()).error.message;
    expect(message).toMatch(/^options\.validation\.inputs is \d+ bytes of JSON; inline inputs are limited to 2000 bytes \(KILN_MAX_INLINE_INPUTS_BYTES\)/);
    // Nothing was queued for the refused request.
    expect((await (await farm.request('GET', '/v1/builds', { role: 'reader' })).json()).builds).toHaveLength(0);
  });

  it('answers 429 with Retry-After past the concurrent-builds and builds-per-hour quotas, counting only new builds', async () => {
    // No worker: builds stay queued, so they count against the concurrency quota.
    const targets = ['ort1.30.0-aarch64-neon', 'ort1.30.0-x86_64-baseline', 'ort1.30.0-x86_64-avx512'];
    const two = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: targets.slice(0, 2) } });
    expect(two.status).toBe(202);
    // Joining builds already queued costs nothing.
    expect((await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: targets.slice(0, 2) } })).status).toBe(202);

    const third = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: [targets[2]] } });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await third.json()).error;
    expect(body.code).toBe('rate_limited');
    expect(body.message).toBe(
      'Too many builds at once: this token has 2 queued or running and asked for 1 more; the quota is 2 (KILN_QUOTA_CONCURRENT_BUILDS). Retry when some have finished',
    );

    // Another token has its own quota; cancelling frees one place but the hourly quota (3) still counts.
    for (const build of (await two.json()).builds) expect((await farm.request('DELETE', `/v1/builds/${build.id}`, { role: 'builder' })).status).toBeLessThan(300);
    const afterCancel = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: [targets[2]] } });
    expect(afterCancel.status).toBe(202);
    const overHour = await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'lim', targets: [targets[0]] } });
    expect(overHour.status).toBe(429);
    expect((await overHour.json()).error.message).toMatch(/^Too many builds this hour: this token queued 3 and asked for 1 more; the quota is 3 per hour \(KILN_QUOTA_BUILDS_PER_HOUR\); retry in \d+ s$/);
    expect(Number(overHour.headers.get('retry-after'))).toBeGreaterThan(60);
    // The admin token is another token, with quotas of its own.
    expect((await farm.request('POST', '/v1/builds', { role: 'admin', body: { model: 'lim', targets: [targets[0]] } })).status).toBe(202);
  });

  it('answers 429 past the stored-bytes quota, and a file already stored costs nothing', async () => {
    expect((await farm.request('POST', '/v1/models', { role: 'builder', body: tinyConv(), headers: octets })).status).toBe(200);
    const more = await farm.request('POST', '/v1/models', { role: 'builder', body: tinyMlp(), headers: octets });
    expect(more.status).toBe(429);
    expect((await more.json()).error.message).toMatch(/^Storage quota reached: this token stored \d+ bytes and this upload is \d+ more; the quota is \d+ bytes \(KILN_QUOTA_STORED_BYTES\)$/);
  });

  it('cuts a slow anonymous body and slow headers, but takes a slow authorized upload', async () => {
    const slowBody = await rawExchange(port, (s) => {
      s.write('POST /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nobody-has-this-token-000\r\nContent-Length: 100000\r\n\r\n');
      const drip = setInterval(() => (s.writable ? s.write('x') : clearInterval(drip)), 100);
      s.on('close', () => clearInterval(drip));
    });
    expect(slowBody.text).toMatch(/^HTTP\/1\.1 401/);
    expect(slowBody.closedAfterMs).toBeLessThan(5000);

    const slowHeaders = await rawExchange(port, (s) => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => (s.writable ? s.write('X-Slow: y\r\n') : clearInterval(drip)), 100);
      s.on('close', () => clearInterval(drip));
    });
    expect(slowHeaders.text).not.toMatch(/^HTTP\/1\.1 200/);
    expect(slowHeaders.closedAfterMs).toBeLessThan(5000);

    // An authorized upload taking longer than KILN_REQUEST_TIMEOUT_MS (800 ms) in all, with short gaps.
    const model = tinyMlp();
    const upload = await rawExchange(port, (s) => {
      s.write(`POST /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.admin}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${model.length}\r\nConnection: close\r\n\r\n`);
      const parts = 8;
      let sent = 0;
      const drip = setInterval(() => {
        const next = Math.ceil((model.length * (sent + 1)) / parts);
        s.write(model.subarray(Math.ceil((model.length * sent) / parts), next));
        if (++sent === parts) clearInterval(drip);
      }, 200);
    });
    expect(upload.text).toMatch(/^HTTP\/1\.1 201/);
    expect(upload.closedAfterMs).toBeGreaterThan(1400);
  });

  it('limits failed dashboard sign-ins per address with 429 and Retry-After', async () => {
    const signIn = (token: string) =>
      fetch(`${farm.url}/dashboard/sign-in`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: farm.url }, body: `token=${token}` });
    expect((await signIn('wrong-token-number-one-000')).status).toBe(401);
    expect((await signIn('wrong-token-number-two-000')).status).toBe(401);
    const refused = await signIn(TOKENS.admin);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many failed sign-ins from this address');
  });
});

describe('requests per second per token', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startFarm({ env: { KILN_RATE_LIMIT_RPS: '5' } });
  });
  afterAll(() => farm.stop());

  it('answers 429 with Retry-After past KILN_RATE_LIMIT_RPS, on Express routes and on resolve', async () => {
    const statuses = await Promise.all(Array.from({ length: 12 }, () => farm.request('GET', '/v1/models', { role: 'reader' })));
    const refused = statuses.filter((r) => r.status === 429);
    expect(statuses.filter((r) => r.status === 200).length).toBe(5);
    expect(refused.length).toBe(7);
    expect(refused[0].headers.get('retry-after')).toBe('1');
    expect((await refused[0].json()).error.message).toMatch(/^Too many requests: this token may make 5 per second \(KILN_RATE_LIMIT_RPS\); retry in 1 s$/);
    const resolve = await farm.request('GET', '/v1/resolve?model=x&target=ort1.30.0-x86_64-avx2', { role: 'reader' });
    expect(resolve.status).toBe(429);
    // Another token is not limited by this one's use.
    expect((await farm.request('GET', '/v1/models', { role: 'builder' })).status).toBe(200);
  });
});
