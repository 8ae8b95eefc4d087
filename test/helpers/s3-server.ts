/**
 * A real S3-protocol server for tests: s3rver on 127.0.0.1, a free port, a fresh temp directory and
 * one bucket. s3rver checks the access key id (its built-in account is S3RVER/S3RVER) but not
 * SigV4 signatures. It ignores If-None-Match / If-Match on writes, so stores talking to it need
 * `conditionalWrites: 'emulated'`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
// s3rver ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverConstructor;

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The store's env for startFarm. */
  env: Record<string, string>;
  /** Stops answering (an outage), keeping the data and the port. */
  pause(): Promise<void>;
  /** Answers again, on the same port and data. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'kiln-test'): Promise<S3TestServer> {
  const directory = await mkdtemp(path.join(tmpdir(), 'kiln-s3rver-'));
  const options = (port: number) => ({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  let server = new S3rver(options(0));
  const { port } = await server.run();
  const stop = async () => {
    // Keep-alive sockets (SDK clients, fetch) would hold close() open until they time out.
    server.httpServer?.closeAllConnections();
    await server.close();
  };
  let paused = false;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    env: {
      KILN_STORE: 's3',
      KILN_S3_BUCKET: bucket,
      KILN_S3_ENDPOINT: endpoint,
      KILN_S3_REGION: 'us-east-1',
      KILN_S3_FORCE_PATH_STYLE: 'true',
      KILN_S3_ACCESS_KEY_ID: 'S3RVER',
      KILN_S3_SECRET_ACCESS_KEY: 'S3RVER',
      KILN_S3_CONDITIONAL_WRITES: 'emulated',
    },
    async pause() {
      paused = true;
      await stop();
    },
    async resume() {
      server = new S3rver(options(port));
      await server.run();
      paused = false;
    },
    async close() {
      if (!paused) await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
