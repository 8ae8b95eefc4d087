/**
 * The farm the chaos suite (scripts/chaos/run.ts) injects faults into: the API in this process and
 * CPU workers as child processes (so they can be SIGKILLed), over a Redis and a store it is given.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startApi, type RunningApi } from '../../src/api/main';
import { loadConfig } from '../../src/config';
import type { PrivateRedis } from '../../src/local-redis';

const ROOT = path.resolve(__dirname, '../..');
const TOKEN = 'chaos-admin-token-0123456789abcdef';
export const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Farm {
  api!: RunningApi;
  workers = new Map<string, ChildProcess>();
  env!: Record<string, string>;
  /** Every worker's KILN_HOME, live or killed: their work directories count as leaks. */
  workerHomes: string[] = [];
  private seq = 0;
  constructor(
    readonly home: string,
    public redis: PrivateRedis,
    readonly storeEnv: Record<string, string>,
    readonly prefix = 'chaos',
  ) {}

  async start(): Promise<void> {
    this.env = {
      REDIS_URL: this.redis.url,
      KILN_PREFIX: this.prefix,
      KILN_HOME: path.join(this.home, `${this.prefix}-api`),
      KILN_PORT: '0',
      KILN_TOKENS: `admin:${TOKEN}`,
      KILN_HEARTBEAT_MS: '1000',
      KILN_LOCK_MS: '5000',
      KILN_STALLED_MS: '2000',
      KILN_RETRY_DELAY_MS: '1000',
      KILN_RECONCILE_MS: '3000',
      KILN_LOG_LEVEL: 'error',
      ...this.storeEnv,
    };
    this.api = await startApi(loadConfig(this.env));
  }

  /** A CPU worker as a child process, with its own KILN_HOME (its work directories). */
  startWorker(): string {
    const id = `${this.prefix}-w${++this.seq}`;
    this.workerHomes.push(path.join(this.home, id));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/worker/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, KILN_WORKER_ID: id, KILN_HOME: path.join(this.home, id) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.workers.set(id, child);
    child.once('exit', () => this.workers.delete(id));
    return id;
  }

  kill(id: string): Promise<void> {
    const child = this.workers.get(id);
    if (!child) return Promise.resolve();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    return exited;
  }

  async request(method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: any }> {
    try {
      const res = await fetch(`${this.api.url}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body instanceof Uint8Array ? { 'content-type': 'application/octet-stream' } : body ? { 'content-type': 'application/json' } : {}) },
        body: body instanceof Uint8Array ? body : body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: await res.json().catch(() => null) };
    } catch {
      return { status: 0, json: null };
    }
  }

  async submit(target: string, iterations: number): Promise<string | null> {
    const answer = await this.request('POST', '/v1/builds', { model: 'conv', targets: [target], options: { benchmark: { iterations, warmup: 0, maxBatch: 1 } } });
    if (answer.status === 202 || answer.status === 200) return answer.json.builds[0].buildKey;
    say(`submit answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return null;
  }

  async build(key: string): Promise<any> {
    return (await this.request('GET', `/v1/builds/${key}`)).json;
  }

  /** Polls until every build is finished (or the deadline); answers stay 503 during outages. */
  async settle(keys: string[], deadlineMs: number): Promise<Map<string, string>> {
    const end = Date.now() + deadlineMs;
    const states = new Map<string, string>();
    for (;;) {
      for (const key of keys) states.set(key, (await this.build(key))?.state ?? 'missing');
      if ([...states.values()].every((s) => ['succeeded', 'failed', 'cancelled'].includes(s)) || Date.now() > end) return states;
      await sleep(1000);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((id) => this.kill(id)));
    await this.api.close();
  }
}
