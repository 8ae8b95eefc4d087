/** `GET /v1/models` pages through an upload-order index: newest first, every model once, a bad cursor is a 400. */
import { tinyMlp } from '../models';
import { startFarm, type TestFarm } from '../helpers/farm';

describe('GET /v1/models pages', () => {
  let farm: TestFarm;
  const uploaded: string[] = [];

  beforeAll(async () => {
    farm = await startFarm();
    for (let seed = 1; seed <= 7; seed++) {
      const response = await farm.request('POST', '/v1/models', { role: 'builder', body: tinyMlp({ seed }), headers: { 'content-type': 'application/octet-stream' } });
      expect(response.status).toBe(201);
      uploaded.push((await response.json()).sha256);
    }
  });
  afterAll(() => farm.stop());

  type Page = { models: { sha256: string; uploadedAt: string; labels: string[] }[]; nextCursor: string | null };
  const page = async (query: string): Promise<Page> => {
    const response = await farm.request('GET', `/v1/models${query}`, { role: 'reader' });
    expect(response.status).toBe(200);
    return response.json();
  };
  const all = async (limit: number): Promise<string[][]> => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const next: Page = await page(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(next.models.map((m) => m.sha256));
      cursor = next.nextCursor;
    } while (cursor);
    return pages;
  };

  it('returns every model once, newest first, in pages of the limit', async () => {
    const pages = await all(3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...uploaded].reverse());
    const first = await page('');
    expect(first.models).toHaveLength(7);
    expect(first.nextCursor).toBeNull();
  });

  it('does not repeat or skip a model when one is deleted between pages', async () => {
    const first = await page('?limit=2');
    const gone = first.models[1].sha256;
    expect((await farm.request('DELETE', `/v1/models/${gone}`, { role: 'admin' })).status).toBe(200);
    const rest = await page(`?limit=10&cursor=${first.nextCursor}`);
    expect(rest.models.map((m) => m.sha256)).toEqual([...uploaded].reverse().slice(2));
    uploaded.splice(uploaded.indexOf(gone), 1);
  });

  it('indexes models recorded before the index existed', async () => {
    await farm.api.ctx.redis.del(farm.api.ctx.keys.modelsByUpload);
    expect((await all(4)).flat()).toEqual([...uploaded].reverse());
  });

  it.each([
    ['?cursor=not-a-cursor', 'cursor'],
    ['?limit=0', 'limit'],
    ['?limit=501', 'limit'],
    ['?page=2', 'page'],
  ])('answers %s with a 400 that names what was wrong', async (query, named) => {
    const response = await farm.request('GET', `/v1/models${query}`, { role: 'reader' });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(new RegExp(named));
  });
});
