/**
 * Bench child: the baseline, a bare node:http server answering every request with fixed bytes and
 * the content type the API sent, run the same way as the API (its own process, keep-alive on).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { childSetup } from '../lib/child';

let server: http.Server | undefined;

async function main(): Promise<void> {
  const setup = await childSetup<{ bodyBase64: string; contentType: string }>(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  const body = Buffer.from(setup.bodyBase64, 'base64');
  const headers = { 'Content-Type': setup.contentType, 'Content-Length': String(body.length) };
  server = http.createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, '127.0.0.1', () => resolve());
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});
