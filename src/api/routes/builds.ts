import { Router, type Request } from 'express';
import type { FarmContext } from '../../context';
import { LOG_FILE } from '../../core/manifest';
import { publishEvent, readLogLines } from '../../state/build-events';
import { CursorError, type BuildRecord } from '../../state/build-records';
import { artifactKey } from '../../storage/layout';
import { requireRole } from '../auth';
import { badRequest, conflict, fromZod, notFound } from '../errors';
import type { EventHub } from '../event-hub';
import { ListBuildsQuerySchema, SubmitSchema } from '../schemas';
import { sendStored } from '../send-stored';
import { submitRequest } from '../submit';
import { mapRefError } from './models';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function buildRoutes(ctx: FarmContext, hub: EventHub): Router {
  const router = Router();

  const load = async (req: Request): Promise<BuildRecord> => {
    const id = String(req.params.id);
    if (!/^[0-9a-f]{64}$/.test(id)) throw badRequest(`Expected a build id (64 hex digits) but received "${id}"`);
    const record = await ctx.builds.get(id);
    if (!record) throw notFound(`No build ${id}`);
    return record;
  };

  router.post('/v1/builds', requireRole('builder'), async (req, res) => {
    const body = SubmitSchema.safeParse(req.body ?? {});
    if (!body.success) throw fromZod(body.error, 'body');
    const result = await submitRequest(ctx, body.data).catch(mapRefError);
    res.status(result.builds.every((b) => b.cached) ? 200 : 202).json(result);
  });

  router.get('/v1/builds', requireRole('reader'), async (req, res) => {
    const query = ListBuildsQuerySchema.safeParse(req.query);
    if (!query.success) throw fromZod(query.error, 'query');
    const model = query.data.model ? (await ctx.models.resolve(query.data.model).catch(mapRefError)).sha256 : undefined;
    try {
      res.json(await ctx.builds.list({ ...query.data, model }));
    } catch (err) {
      if (err instanceof CursorError) throw badRequest(err.message);
      throw err;
    }
  });

  router.get('/v1/builds/:id', requireRole('reader'), async (req, res) => {
    const record = await load(req);
    const published = await ctx.artifacts.get(record.modelId, record.id);
    const base = `/v1/artifacts/${record.id}`;
    const artifacts = published?.files.map((f) => ({ ...f, url: `${base}/${f.name}` })) ?? [];
    res.json({ ...record, published: Boolean(published), artifacts });
  });

  router.delete('/v1/builds/:id', requireRole('builder'), async (req, res) => {
    const record = await load(req);
    if (TERMINAL.has(record.state)) throw conflict(`Build ${record.id} already ${record.state}; nothing to cancel`);
    let removed = false;
    try {
      removed = await ctx.queues.removeIfIdle(record.targetKey, record.id);
    } catch {
      removed = false; // BullMQ refuses to remove a job a worker holds the lock of: it is running
    }
    if (removed) {
      await ctx.builds.update(record.id, { state: 'cancelled', finishedAt: new Date().toISOString(), error: 'cancelled before it started' });
      await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildId: record.id, state: 'cancelled', error: 'cancelled', at: new Date().toISOString() });
      res.json({ id: record.id, state: 'cancelled' });
      return;
    }
    await ctx.builds.update(record.id, { cancelRequested: true });
    await ctx.redis.publish(ctx.keys.cancel, record.id);
    res.status(202).json({ id: record.id, state: record.state, cancelRequested: true });
  });

  router.post('/v1/builds/:id/retry', requireRole('builder'), async (req, res) => {
    const record = await load(req);
    if (record.state !== 'failed' && record.state !== 'cancelled') {
      throw conflict(`Only failed or cancelled builds can be retried; build ${record.id} is ${record.state}`);
    }
    await ctx.builds.update(record.id, { state: 'queued', percent: 0 }, ['error', 'finishedAt', 'cancelRequested', 'phase', 'report', 'verdict']);
    await ctx.queues.enqueue(record.spec, record.id);
    await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildId: record.id, state: 'queued', at: new Date().toISOString() });
    res.status(202).json({ id: record.id, state: 'queued' });
  });

  router.get('/v1/builds/:id/log', requireRole('reader'), async (req, res) => {
    const record = await load(req);
    const published = await ctx.artifacts.get(record.modelId, record.id);
    const logEntry = published?.files.find((f) => f.name === LOG_FILE);
    if (logEntry) {
      await sendStored(req, res, ctx.store, artifactKey(record.id, logEntry), {
        filename: LOG_FILE,
        contentType: 'text/plain; charset=utf-8',
        presignSeconds: ctx.config.presignSeconds,
      });
      return;
    }
    const lines = await readLogLines(ctx.redis, ctx.keys, record.id);
    res.type('text/plain; charset=utf-8').send(lines.length ? lines.join('\n') + '\n' : '');
  });

  router.get('/v1/builds/:id/events', requireRole('reader'), async (req, res) => {
    const record = await load(req);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let closed = false;
    const buffered: Parameters<Parameters<EventHub['subscribe']>[1]>[0][] = [];
    let replaying = true;
    const onEvent = (event: (typeof buffered)[number]) => {
      if (closed) return;
      if (replaying) return void buffered.push(event);
      send(event.type, event);
      if (event.type === 'state' && TERMINAL.has(event.state)) finish();
    };
    // Subscribe before reading the snapshot so nothing between the two is lost.
    const unsubscribe = await hub.subscribe(ctx.keys.events(record.id), onEvent);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
      res.end();
    };
    req.on('close', finish);

    const current = (await ctx.builds.get(record.id)) ?? record;
    send('state', { type: 'state', buildId: current.id, state: current.state, error: current.error, at: current.updatedAt });
    if (current.phase) send('progress', { type: 'progress', buildId: current.id, phase: current.phase, percent: current.percent, at: current.updatedAt });
    if (req.query.log !== '0') {
      for (const line of await readLogLines(ctx.redis, ctx.keys, current.id)) send('log', { type: 'log', buildId: current.id, line });
    }
    replaying = false;
    if (TERMINAL.has(current.state)) return finish();
    for (const event of buffered.splice(0)) onEvent(event);
  });

  return router;
}

