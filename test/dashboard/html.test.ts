/** The dashboard's templates escape everything they interpolate unless it is already markup. */
import { dataBlock, escapeHtml, href, html, jsonForScript, raw } from '../../src/api/dashboard/html';
import { excerpt, formatAge, formatBytes, formatDuration, firstLine } from '../../src/api/dashboard/format';

describe('html templates', () => {
  it('escapes the five HTML specials and backticks', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
  });

  it('escapes interpolated text in content and in quoted attributes', () => {
    const name = '"><script>alert(1)</script>';
    const out = html`<a title="${name}">${name}</a>`.value;
    expect(out).toBe('<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</a>');
    expect(out).not.toContain('<script>');
  });

  it('keeps nested templates and raw markup as they are, and escapes list items one by one', () => {
    const items = ['<b>', html`<i>ok</i>`, 3];
    expect(html`<p>${html`<em>${'<x>'}</em>`}${raw('<br>')}${items}</p>`.value).toBe('<p><em>&lt;x&gt;</em><br>&lt;b&gt;<i>ok</i>3</p>');
  });

  it('renders nothing for null, undefined, false and true', () => {
    expect(html`[${null}${undefined}${false}${true}]`.value).toBe('[]');
    expect(html`${0}`.value).toBe('0');
  });

  it('writes JSON that cannot close a script element or break a line in JS', () => {
    const json = jsonForScript({ s: '</script><!-- & \u2028\u2029' }).value;
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual({ s: '</script><!-- & \u2028\u2029' });
    const block = dataBlock('d', ['</script>']).value;
    expect(block.match(/<\/script>/g)).toHaveLength(1);
    expect(block).toMatch(/^<script type="application\/json" id="d">/);
  });

  it('builds query strings with encoding and leaves empty values out', () => {
    expect(href('/dashboard/builds', { state: 'queued', model: '', target: 'trt10.9.0-sm86-ampere+', cursor: undefined })).toBe(
      '/dashboard/builds?state=queued&target=trt10.9.0-sm86-ampere%2B',
    );
    expect(href('/dashboard/builds')).toBe('/dashboard/builds');
  });
});

describe('formatting', () => {
  it('formats bytes, durations and ages as people read them', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3154)).toBe('3.08 KiB');
    expect(formatBytes(5 * 2 ** 30)).toBe('5.00 GiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_345)).toBe('12 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(7_380_000)).toBe('2 h 03 min');
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAge('2026-01-01T11:57:00Z', now)).toBe('3 min ago');
    expect(formatAge('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatAge(undefined, now)).toBe('—');
  });

  it('shows the first non-empty line of an error', () => {
    expect(firstLine('\n  Validation failed: logits\nstack...')).toBe('Validation failed: logits');
    expect(firstLine(undefined)).toBe('');
  });

  it('cuts an excerpt at a word, the ellipsis counted', () => {
    const error = 'ONNX Runtime could not load the model: Load model failed';
    expect(excerpt(error, 34)).toBe('ONNX Runtime could not load the…');
    expect(excerpt(error, 80)).toBe(error);
    expect(excerpt('first line fits\nsecond line', 20)).toBe('first line fits');
    // Trailing punctuation goes with the cut; a long word with no space to cut at is cut where it must be.
    expect(excerpt('Validation failed: logits, probs and more', 27)).toBe('Validation failed: logits…');
    expect(excerpt('/very/long/path/without/any/spaces/at/all', 12)).toBe('/very/long/…');
  });
});
