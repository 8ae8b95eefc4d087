/**
 * Pages that name models read only the models they show: the models page is paged through the
 * upload-order index, and the pickers (builds filter, submit form) offer the newest MODEL_CHOICES,
 * plus the filtered model when it is older. Over real HTTP with a signed-in session.
 */
import { createHash } from 'node:crypto';
import { MODEL_CHOICES } from '../../src/api/dashboard/data/catalog';
import type { ModelInfo } from '../../src/core/onnx/model-info';
import { startFarm, TOKENS, type TestFarm } from '../helpers/farm';

const MODELS = MODEL_CHOICES + 20;

function info(i: number): ModelInfo {
  return {
    sha256: createHash('sha256').update(`catalog-model-${i}`).digest('hex'),
    size: 1000 + i,
    irVersion: 8,
    producerName: 'test',
    producerVersion: '1',
    opsets: { '': 17 },
    graphName: `g${i}`,
    inputs: [{ name: 'input', elementType: 'float', dims: [1, 4] }],
    outputs: [{ name: 'output', elementType: 'float', dims: [1, 4] }],
    nodeCount: 1,
    initializerCount: 0,
  };
}

describe('dashboard pages with more models than a page', () => {
  let farm: TestFarm;
  let cookie: string;

  beforeAll(async () => {
    farm = await startFarm();
    // Registered one after another, so upload order is index order: m0 oldest, m119 newest.
    for (let i = 0; i < MODELS; i++) await farm.api.ctx.models.register(info(i), { name: `m${i}` });
    const response = await fetch(`${farm.url}/dashboard/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: farm.url },
      body: new URLSearchParams({ token: TOKENS.builder }),
      redirect: 'manual',
    });
    cookie = response.headers.get('set-cookie')!.split(';')[0];
  });
  afterAll(() => farm.stop());

  const get = async (url: string) => {
    const response = await fetch(`${farm.url}${url}`, { headers: { cookie } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const modelRows = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/dashboard\/models\/[0-9a-f]{64}">([^<]+)<\/a>/g)].map((m) => m[1]);

  it('pages the models page, newest first, every model once', async () => {
    const seen: string[] = [];
    let url: string | null = '/dashboard/models';
    let pages = 0;
    while (url) {
      const html = await get(url);
      const rows = modelRows(html);
      expect(rows.length).toBeLessThanOrEqual(50);
      seen.push(...rows);
      pages++;
      url = /<a rel="next" href="([^"]+)">/.exec(html)?.[1].replace(/&amp;/g, '&') ?? null;
    }
    expect(pages).toBe(Math.ceil(MODELS / 50));
    expect(seen).toEqual(Array.from({ length: MODELS }, (_, i) => `m${MODELS - 1 - i}@1`));
  });

  it('answers a bad models page cursor with a 400', async () => {
    const response = await fetch(`${farm.url}/dashboard/models?cursor=nope`, { headers: { cookie } });
    expect(response.status).toBe(400);
  });

  it('offers the newest models in the submit form and says there are more', async () => {
    const html = await get('/dashboard/submit');
    const options = [...html.matchAll(/<option value="(m\d+@1)"/g)].map((m) => m[1]);
    expect(options).toHaveLength(MODEL_CHOICES);
    expect(options[0]).toBe(`m${MODELS - 1}@1`);
    expect(options).not.toContain('m0@1');
    expect(html).toContain(`The newest ${MODEL_CHOICES} models are listed`);
  });

  it('keeps an older filtered model chosen in the builds filter', async () => {
    const html = await get('/dashboard/builds?model=m0@1');
    expect(html).toMatch(/<option value="m0@1" selected>/);
    expect([...html.matchAll(/<option value="(m\d+@1)"/g)]).toHaveLength(MODEL_CHOICES + 1);
  });
});
