/**
 * What the API does to one build, whoever asks: the bearer-token routes (`routes/builds.ts`) and
 * the cookie-authenticated dashboard (`dashboard/`) call the same functions, so cancel, retry,
 * the log and the event stream mean the same thing everywhere.
 */
import type { Request, Response } from 'express';
import type { FarmContext } from '../context';
import { LOG_FILE } from '../core/manifest';
import { LIVE_JOB_STATES } from '../queue/build-queues';
import { publishEvent, readLogLines, type BuildEvent } from '../state/build-events';
import type { BuildRecord, BuildState } from '../state/build-records';
import { artifactKey } from '../storage/layout';
import { buildJson, eventJson } from './build-json';
import { ApiError, badRequest, conflict, notFound } from './errors';
import { RETRY_AFTER_SECONDS } from './outages';
import { lastRecovery } from './reconciler';
import { withWaiting } from './waiting';
import { readManifest } from '../storage/publish';
import type { EventHub } from './event-hub';
import { sendStored } from './send-stored';

export const TERMINAL_STATES: ReadonlySet<BuildState> = new Set(['succeeded', 'failed', 'cancelled']);

/** An action's answer, independent of how it is sent (JSON for the API, a redirect for a form). */
export interface ActionResult {
  status: number;
  body: { buildKey: string; id: string; state: BuildState; cancelRequested?: boolean };
}

export async function loadBuild(ctx: FarmContext, buildKey: string): Promise<BuildRecord> {
  if (!/^[0-9a-f]{64}$/.test(buildKey)) throw badRequest(`Expected a build key (64 hex digits) but received "${buildKey}"`);
  const record = await ctx.builds.get(buildKey);
  if (record) return record;
  // Storage is the truth: a published set whose record Redis lost is answered from its manifest.
  const manifest = await readManifest(ctx.store, buildKey);
  if (manifest) {
    const { record: restored } = await ctx.builds.ensure(manifest.spec, buildKey, 'succeeded');
    await ctx.artifacts.add(manifest);
    return restored;
  }
  const report = await lastRecovery(ctx);
  if (report && !report.finishedAt) {
    throw new ApiError(503, 'restoring', `Redis lost its data (found at ${report.detectedAt}); Kiln is restoring builds and requests from storage. Retry in ${RETRY_AFTER_SECONDS} s`, {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }
  const after = report ? `; Redis lost its data at ${report.detectedAt} and every request accepted before then was restored from storage (GET /v1/recovery)` : '';
  throw notFound(`No build ${buildKey}${after}`);
}

/** A waiting build is removed from its queue at once; a running one is asked to stop (202). */
export async function cancelBuild(ctx: FarmContext, record: BuildRecord): Promise<ActionResult> {
  if (TERMINAL_STATES.has(record.state)) throw conflict(`Build ${record.buildKey} already ${record.state}; nothing to cancel`);
  let removed = false;
  try {
    removed = await ctx.queues.removeIfIdle(record.targetKey, record.buildKey);
  } catch {
    removed = false; // BullMQ refuses to remove a job a worker holds the lock of: it is running
  }
  if (removed) {
    await ctx.builds.update(record.buildKey, { state: 'cancelled', finishedAt: new Date().toISOString(), error: 'cancelled before it started' });
    await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey: record.buildKey, state: 'cancelled', error: 'cancelled', at: new Date().toISOString() });
    return { status: 200, body: buildJson({ buildKey: record.buildKey, state: 'cancelled' as const }) };
  }
  await ctx.builds.update(record.buildKey, { cancelRequested: true });
  await ctx.redis.publish(ctx.keys.cancel, record.buildKey);
  return { status: 202, body: buildJson({ buildKey: record.buildKey, state: record.state, cancelRequested: true }) };
}

export async function retryBuild(ctx: FarmContext, record: BuildRecord): Promise<ActionResult> {
  if (record.state === 'succeeded') throw conflict(`Build ${record.buildKey} succeeded; there is nothing to retry`);
  if (record.state === 'queued' || record.state === 'active') {
    // A stuck build (queued or active with no job that will run it) can be retried; a live one not.
    const job = await ctx.queues.jobStatus(record.targetKey, record.buildKey);
    if (LIVE_JOB_STATES.has(job.state)) {
      throw conflict(`Build ${record.buildKey} is ${record.state} and its job is ${job.state}; only failed, cancelled or stuck builds can be retried`);
    }
  }
  await ctx.builds.update(record.buildKey, { state: 'queued', percent: 0 }, ['error', 'inputError', 'finishedAt', 'cancelRequested', 'phase', 'report', 'verdict']);
  await ctx.queues.enqueue(record.spec, record.buildKey);
  await publishEvent(ctx.redis, ctx.keys, { type: 'state', buildKey: record.buildKey, state: 'queued', at: new Date().toISOString() });
  return { status: 202, body: buildJson({ buildKey: record.buildKey, state: 'queued' as const }) };
}

/** The published build.log when there is one, else the lines kept in Redis while it runs. */
export async function sendBuildLog(ctx: FarmContext, req: Request, res: Response, record: BuildRecord): Promise<void> {
  const published = await ctx.artifacts.get(record.modelId, record.buildKey);
  const logEntry = published?.files.find((f) => f.name === LOG_FILE);
  if (logEntry) {
    await sendStored(req, res, ctx.store, artifactKey(record.buildKey, logEntry), {
      filename: LOG_FILE,
      contentType: 'text/plain; charset=utf-8',
      presignSeconds: ctx.config.presignSeconds,
    });
    return;
  }
  const lines = await readLogLines(ctx.redis, ctx.keys, record.buildKey);
  res.type('text/plain; charset=utf-8').send(lines.length ? lines.join('\n') + '\n' : '');
}

/**
 * Server-Sent Events of one build: its current state and progress, the log lines kept so far
 * (unless `withLog` is false), then live events until the build finishes or the client leaves.
 */
export async function streamBuildEvents(ctx: FarmContext, hub: EventHub, req: Request, res: Response, record: BuildRecord, withLog: boolean): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let closed = false;
  let finish: (() => void) | undefined;
  // Listened for before any await: a client gone while Redis confirms the subscription is still seen.
  let clientGone = false;
  req.on('close', () => {
    clientGone = true;
    finish?.();
  });
  const buffered: BuildEvent[] = [];
  let replaying = true;
  const onEvent = (event: BuildEvent) => {
    if (closed) return;
    if (replaying) return void buffered.push(event);
    send(event.type, eventJson(event));
    if (event.type === 'state' && TERMINAL_STATES.has(event.state)) finish?.();
  };
  // Subscribe before reading the snapshot so nothing between the two is lost.
  const unsubscribe = await hub.subscribe(ctx.keys.events(record.buildKey), onEvent);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
  };
  if (clientGone) return finish();

  const current = (await ctx.builds.get(record.buildKey)) ?? record;
  const [{ waiting }] = await withWaiting(ctx, [current]);
  send('state', eventJson({ type: 'state', buildKey: current.buildKey, state: current.state, error: current.error, ...(waiting ? { waiting: waiting.message } : {}), at: current.updatedAt }));
  if (current.phase) send('progress', eventJson({ type: 'progress', buildKey: current.buildKey, phase: current.phase, percent: current.percent, at: current.updatedAt }));
  if (withLog) {
    for (const line of await readLogLines(ctx.redis, ctx.keys, current.buildKey)) send('log', eventJson({ type: 'log', buildKey: current.buildKey, line }));
  }
  replaying = false;
  if (TERMINAL_STATES.has(current.state)) return finish();
  for (const event of buffered.splice(0)) onEvent(event);
}
