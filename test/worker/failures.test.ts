/**
 * Builds that cannot succeed fail once, with a message that says why: a model ONNX Runtime cannot
 * load (BullMQ UnrecoverableError: no retries), a missing symbolic dim, and a build past its timeout.
 * A transient failure (the model missing from storage for a while) is retried and then succeeds.
 */
import { createHash } from 'node:crypto';
import { GraphBuilder, symbolicDimsModel, tinyConv, tinyMlp } from '../models';
import { readEvents, startFarm, waitForBuild, type TestFarm } from '../helpers/farm';
import { modelKey } from '../../src/storage/layout';

/** Parses as ONNX (so the upload is accepted) but uses an operator no runtime has. */
function unknownOperatorModel(): Buffer {
  const g = new GraphBuilder(3);
  const x = g.input('x', 'float', ['batch', 4]);
  g.node('NoSuchOperator', [x], {}, 'y');
  g.output('y', 'float', ['batch', 4]);
  return g.toModel({ graphName: 'broken' });
}

describe('builds that fail', () => {
  let farm: TestFarm;
  let target: string;

  beforeAll(async () => {
    // Attempts stay at the default (3): a final failure must come from the error's kind.
    farm = await startFarm({ env: { KILN_RETRY_DELAY_MS: '200' } });
    target = (await farm.startWorker()).targets[0];
  });
  afterAll(() => farm.stop());

  async function build(model: Buffer, name: string, options: object = {}) {
    const pushed = await farm.request('POST', `/v1/models?name=${name}`, { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    expect(pushed.status).toBe(201);
    const body = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: name, targets: [target], options } })).json();
    return waitForBuild(farm, body.builds[0].id);
  }

  it('fails a model ONNX Runtime cannot load at once, without retries', async () => {
    const result = await build(unknownOperatorModel(), 'broken');
    expect(result).toMatchObject({ state: 'failed', attempts: 1, published: false });
    expect(result.error).toMatch(/NoSuchOperator/);
    const job = await farm.api.ctx.queues.queue(target).getJob(result.id);
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.getState()).toBe('failed');
  });

  it('names the input and its symbolic dims when a shape is missing', async () => {
    const result = await build(symbolicDimsModel(), 'symbolic');
    expect(result).toMatchObject({ state: 'failed', attempts: 1 });
    expect(result.error).toMatch(/input "tokens" has symbolic dims \[seq\]|seq/);
    expect(result.error).toMatch(/options\.shapes/);
  });

  it('fails a build that runs past its timeout', async () => {
    const result = await build(tinyConv({ seed: 9 }), 'slow', { timeoutSeconds: 1, benchmark: { iterations: 100_000, maxBatch: 1 } });
    expect(result).toMatchObject({ state: 'failed', attempts: 1 });
    expect(result.error).toBe('Build timed out after 1 s (options.timeoutSeconds)');
  });

  it('retries a transient failure with backoff, and the next attempt succeeds', async () => {
    const model = tinyMlp({ seed: 5 });
    const sha = createHash('sha256').update(model).digest('hex');
    await farm.request('POST', '/v1/models?name=flaky', { role: 'builder', body: model, headers: { 'content-type': 'application/octet-stream' } });
    // Storage "loses" the model: the worker's download fails, which is not the model's fault.
    await farm.api.ctx.store.delete(modelKey(sha));
    const body = await (await farm.request('POST', '/v1/builds', { role: 'builder', body: { model: 'flaky', targets: [target] } })).json();
    const id = body.builds[0].id;
    const events = await readEvents(await farm.request('GET', `/v1/builds/${id}/events?log=0`, { role: 'reader' }), (e) => e.event === 'state' && e.data.state === 'queued' && /retrying/.test(e.data.error ?? ''));
    expect(events[events.length - 1].data.error).toMatch(/^attempt 1 failed, retrying: /);
    await farm.api.ctx.store.put(modelKey(sha), model, { sha256: sha });
    const result = await waitForBuild(farm, id);
    expect(result.state).toBe('succeeded');
    expect(result.attempts).toBeGreaterThanOrEqual(2);
  });
});
