/**
 * A Server-Sent Events parser (the WHATWG "event stream interpretation"), fed chunks as they
 * arrive. Written here because eventsource-parser is ESM-only. Chunks may split a line, a
 * multi-byte character or a CRLF anywhere; lines end in LF, CR or CRLF; `data:` lines of one event
 * are joined with LF; lines starting with `:` are comments (keep-alives) and are skipped.
 */
import type { Readable } from 'node:stream';

export interface SseEvent {
  /** `message` when the stream names no event type. */
  event: string;
  data: string;
  /** The last event id seen on the stream, if any. */
  id?: string;
  /** A reconnection delay the server asked for, in ms. */
  retry?: number;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** A chunk ended in CR: an LF at the start of the next one belongs to the same line end. */
  private pendingCr = false;
  private first = true;
  private eventType = '';
  private data: string[] = [];
  private hasData = false;
  private lastId: string | undefined;
  private retry: number | undefined;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  feed(chunk: Buffer | Uint8Array | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;

    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i));
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The stream ended: an event not terminated by a blank line is dropped, as the standard says. */
  end(): void {
    this.buffer += this.decoder.decode();
    this.buffer = '';
    this.reset();
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      const event: SseEvent = { event: this.eventType || 'message', data: this.data.join('\n') };
      if (this.lastId !== undefined) event.id = this.lastId;
      if (this.retry !== undefined) event.retry = this.retry;
      this.onEvent(event);
    }
    this.reset();
  }

  private reset(): void {
    this.eventType = '';
    this.data = [];
    this.hasData = false;
  }
}

/** Yields the events of a response body until it ends. */
export async function* readSse(body: Readable): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = new SseParser((e) => queue.push(e));
  for await (const chunk of body) {
    parser.feed(chunk as Buffer);
    while (queue.length) yield queue.shift()!;
  }
  parser.end();
}
