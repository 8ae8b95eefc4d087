import { PassThrough } from 'node:stream';
import { readSse, SseParser, type SseEvent } from '../../src/cli/sse';

function parse(chunks: (string | Buffer)[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return events;
}

/** Every way of cutting `text` in two must parse like the whole. */
function everySplit(text: string): SseEvent[][] {
  const bytes = Buffer.from(text);
  const results: SseEvent[][] = [];
  for (let i = 0; i <= bytes.length; i++) results.push(parse([bytes.subarray(0, i), bytes.subarray(i)]));
  return results;
}

describe('SseParser', () => {
  test('parses named events with JSON data, as the API sends them', () => {
    const text = 'event: state\ndata: {"state":"active"}\n\nevent: progress\ndata: {"percent":40}\n\n';
    expect(parse([text])).toEqual([
      { event: 'state', data: '{"state":"active"}' },
      { event: 'progress', data: '{"percent":40}' },
    ]);
  });

  test('gives the same events however the bytes are cut, including inside CRLF and a multi-byte character', () => {
    const text = 'event: log\r\ndata: build ✓ done\r\n\r\n: keep-alive\r\n\r\nid: 7\rdata: a\r\rdata: b\n\n';
    const expected = [
      { event: 'log', data: 'build ✓ done' },
      { event: 'message', data: 'a', id: '7' },
      { event: 'message', data: 'b', id: '7' },
    ];
    for (const result of everySplit(text)) expect(result).toEqual(expected);
  });

  test('joins multi-line data with LF and keeps a value without the space after the colon', () => {
    expect(parse(['data: first\ndata:second\ndata\ndata:  two spaces\n\n'])).toEqual([
      { event: 'message', data: 'first\nsecond\n\n two spaces' },
    ]);
  });

  test('skips comments and keep-alives, and events without data', () => {
    expect(parse([': keep-alive\n\n', 'event: state\n\n', ':comment\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x' }]);
  });

  test('reads retry, ignores unknown fields and a leading BOM, drops an unterminated last event', () => {
    expect(parse(['\uFEFFretry: 3000\nfoo: bar\ndata: x\n\n', 'data: never ended'])).toEqual([{ event: 'message', data: 'x', retry: 3000 }]);
  });

  test('readSse yields events from a stream as its chunks arrive', async () => {
    const body = new PassThrough();
    const events = readSse(body);
    body.write('event: state\ndata: {"a"');
    body.write(':1}\n');
    body.write('\nevent: progress\ndata: 2\n\n');
    body.end();
    const seen: SseEvent[] = [];
    for await (const e of events) seen.push(e);
    expect(seen).toEqual([
      { event: 'state', data: '{"a":1}' },
      { event: 'progress', data: '2' },
    ]);
  });
});
