/**
 * The CLI's HTTP client: one base URL, one bearer token, and the API's JSON errors turned into
 * KilnApiError. Built on node:http so request bodies and downloads stream (nothing is read whole)
 * and redirects are followed by hand: a presigned storage URL must not receive the Kiln token.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** An error answer of the API (`{ error: { code, message } }`), or any other non-2xx answer. */
export class KilnApiError extends Error {
  override name = 'KilnApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** What to do about it, for the errors a user can fix on their side. */
  get hint(): string | undefined {
    if (this.status === 401) {
      return 'Set KILN_TOKEN (or pass --token) to a token of this Kiln. A farm started with `npm start` keeps its admin token in .kiln/admin-token: export KILN_TOKEN=$(cat .kiln/admin-token)';
    }
    if (this.status === 403) return 'KILN_TOKEN holds a token whose role is too low for this command; use a token with the role named above.';
    return undefined;
  }
}

/** Nothing answered at the base URL (refused, unknown host, reset). */
export class KilnConnectionError extends Error {
  override name = 'KilnConnectionError';
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  headers?: Record<string, string | number>;
  /** A JSON value (sent as application/json) or a stream (sent as is; give Content-Length in headers). */
  json?: unknown;
  body?: Readable;
  /** Follow up to this many redirects (Default: 0: a 3xx is returned to the caller). */
  maxRedirects?: number;
}

export interface KilnClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  url: string;
  token?: string;
  userAgent?: string;
}

const MAX_REDIRECTS = 5;

export class KilnClient {
  readonly baseUrl: URL;
  private readonly token?: string;
  private readonly userAgent: string;

  constructor(options: KilnClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new KilnConnectionError(`Expected an http(s) URL for --url (KILN_URL) but received "${options.url}"`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new KilnConnectionError(`Expected an http(s) URL for --url (KILN_URL) but received "${options.url}"`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.baseUrl = base;
    this.token = options.token || undefined;
    this.userAgent = options.userAgent ?? 'kiln-cli';
  }

  /** An API path (`/v1/models`) or an absolute URL, as a URL; API paths keep the base's path prefix. */
  resolve(pathOrUrl: string, query?: Record<string, QueryValue>): URL {
    const url = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl.replace(/^\//, ''), this.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    }
    return url;
  }

  /**
   * Sends a request and returns the response whatever its status, body unread. The token goes only
   * to the API's own origin, so a redirect to a presigned URL does not carry it.
   */
  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    let url = this.resolve(pathOrUrl, options.query);
    const maxRedirects = Math.min(options.maxRedirects ?? 0, MAX_REDIRECTS);
    for (let hop = 0; ; hop++) {
      const res = await this.send(method, url, options);
      const location = res.headers.location;
      if (!isRedirect(res.statusCode) || !location || hop >= maxRedirects) return res;
      if (options.body || options.json !== undefined) return res; // a body cannot be sent twice
      res.resume();
      url = new URL(location, url);
    }
  }

  /** JSON request and answer; a non-2xx answer throws KilnApiError. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, { ...options, headers: { Accept: 'application/json', ...options.headers } });
    if (!isSuccess(res.statusCode)) throw await errorFrom(res);
    const text = await readText(res);
    try {
      return (text ? JSON.parse(text) : null) as T;
    } catch {
      throw new KilnApiError(res.statusCode ?? 0, 'bad_response', `Expected JSON from ${method} ${path} but received: ${snippet(text)}`);
    }
  }

  /** A response with a 2xx status (redirects followed), body unread; otherwise throws KilnApiError. */
  async stream(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.request(method, pathOrUrl, { maxRedirects: MAX_REDIRECTS, ...options });
    if (!isSuccess(res.statusCode)) throw await errorFrom(res);
    return res;
  }

  private send(method: string, url: URL, options: RequestOptions): Promise<IncomingMessage> {
    const headers: Record<string, string | number> = { 'User-Agent': this.userAgent, ...options.headers };
    if (this.token && url.origin === this.baseUrl.origin) headers.Authorization = `Bearer ${this.token}`;
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    // node:https (and TLS with it) is loaded only for an https URL: most farms are reached over plain http.
    const lib: typeof http | typeof import('node:https') = url.protocol === 'https:' ? require('node:https') : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(connectionError(err, url)));
      if (options.body) {
        options.body.on('error', (err) => req.destroy(err));
        options.body.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }
}

export function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The API's `{ error: { code, message } }`, or a readable stand-in for any other error body. */
export async function errorFrom(res: IncomingMessage): Promise<KilnApiError> {
  const status = res.statusCode ?? 0;
  const text = await readText(res).catch(() => '');
  if (isJson(res.headers)) {
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
      if (body.error?.message) return new KilnApiError(status, body.error.code ?? 'error', body.error.message, body.error.details);
    } catch {
      // fall through to the generic message
    }
  }
  const reason = http.STATUS_CODES[status] ?? 'error';
  return new KilnApiError(status, 'http_error', `HTTP ${status} ${reason}${text ? `: ${snippet(text)}` : ''}`);
}

function isJson(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').includes('json');
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

function connectionError(err: NodeJS.ErrnoException, url: URL): Error {
  const where = url.origin;
  if (err.code === 'ECONNREFUSED') {
    return new KilnConnectionError(`Nothing answers at ${where} (connection refused); start the farm (\`npm start\` or \`kiln api\`) or point --url / KILN_URL at it`);
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new KilnConnectionError(`Cannot resolve the host of ${where} (${err.code}); check --url / KILN_URL`);
  }
  if (err.code === 'ECONNRESET' || err.code === 'ETIMEDOUT' || err.code === 'EPIPE') {
    return new KilnConnectionError(`The connection to ${where} failed (${err.code}): ${err.message}`);
  }
  return err;
}
