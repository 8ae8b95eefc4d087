/**
 * Builds as the API writes them. A build is named by its build key, `buildKey`, everywhere; answers
 * written before that name settled called it `id` (build records, submit, request, cancel and retry
 * answers) and `buildId` (events), and keep carrying those names too so existing clients still read
 * them. New clients should read `buildKey`.
 */
export function buildJson<T extends { buildKey: string }>(build: T): T & { id: string } {
  return { ...build, id: build.buildKey };
}

/** An event (BuildEvent, or a replayed log line) as SSE clients receive it. */
export function eventJson<E extends { buildKey: string }>(event: E): E & { buildId: string } {
  return { ...event, buildId: event.buildKey };
}
