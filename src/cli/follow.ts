/**
 * Follows a build's event stream (`GET /v1/builds/:id/events`) until the build reaches a terminal
 * state. The API ends the stream then; a stream that ends or breaks earlier (an API restart, a
 * proxy timeout) is reopened, and the API replays the state, the progress and the log kept so far.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isTerminal, type BuildEvent, type BuildState } from './api-types';
import { KilnApiError, type KilnClient } from './client';
import { readSse } from './sse';

export interface FollowOptions {
  /** Ask for log lines too (Default: false). */
  log?: boolean;
  /** Reconnections in a row without hearing anything before giving up (Default: 10). */
  maxReconnects?: number;
  /** First wait before reconnecting, in ms; doubles up to 10 s (Default: 500). */
  reconnectDelayMs?: number;
  signal?: AbortSignal;
}

const EVENT_TYPES = new Set(['state', 'progress', 'log']);

/** Calls `onEvent` for each event; resolves with the terminal state. */
export async function followBuild(
  client: KilnClient,
  id: string,
  onEvent: (event: BuildEvent) => void,
  options: FollowOptions = {},
): Promise<BuildState> {
  const maxReconnects = options.maxReconnects ?? 10;
  const firstWait = options.reconnectDelayMs ?? 500;
  let wait = firstWait;
  let failures = 0;
  // On reconnect the API replays the kept log from its start; lines already shown are skipped.
  let logLinesSeen = 0;
  for (let attempt = 0; ; attempt++) {
    let replayedLog = 0;
    let heard = false;
    try {
      const res = await client.stream('GET', `/v1/builds/${id}/events`, {
        query: { log: options.log ? undefined : '0' },
        headers: { Accept: 'text/event-stream' },
      });
      const abort = () => res.destroy();
      options.signal?.addEventListener('abort', abort, { once: true });
      try {
        for await (const sse of readSse(res)) {
          if (!EVENT_TYPES.has(sse.event)) continue;
          heard = true;
          const event = JSON.parse(sse.data) as BuildEvent;
          if (event.type === 'log') {
            if (replayedLog < logLinesSeen) {
              replayedLog++;
              continue;
            }
            logLinesSeen++;
            replayedLog++;
          }
          onEvent(event);
          if (event.type === 'state' && isTerminal(event.state)) {
            res.destroy();
            return event.state;
          }
        }
      } finally {
        options.signal?.removeEventListener('abort', abort);
      }
    } catch (err) {
      // An answer of the API (404, 401, ...) will not change by asking again.
      if (err instanceof KilnApiError || options.signal?.aborted) throw err;
      if (attempt === 0 && failures === 0 && !heard) throw err;
    }
    if (options.signal?.aborted) throw new Error(`Stopped following build ${id}`);
    failures = heard ? 0 : failures + 1;
    if (heard) wait = firstWait;
    if (failures > maxReconnects) throw new Error(`Lost the event stream of build ${id} and could not reopen it (${maxReconnects} tries)`);
    await delay(wait);
    wait = Math.min(wait * 2, 10_000);
  }
}
