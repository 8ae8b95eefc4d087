import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Store, type S3StoreOptions } from '../../src/storage/s3-store';
import { createStore } from '../../src/storage/create-store';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { describeStoreContract } from './store-contract';

let server: S3TestServer;
let run = 0;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server.close();
});

function options(extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  const { endpoint, bucket, region, accessKeyId, secretAccessKey } = server;
  // A fresh key prefix per test keeps tests apart on one server.
  return { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle: true, prefix: `run-${++run}/`, ...extra };
}

// s3rver ignores If-None-Match / If-Match on writes (see below), so the store checks with a head
// first: right for one writer at a time, racy for concurrent ones, so the race tests are skipped.
describeStoreContract(
  's3 (s3rver, emulated conditional writes)',
  async () => {
    const store = new S3Store(options({ conditionalWrites: 'emulated', partSize: 5 * 1024 * 1024 }));
    return { store, destroy: () => store.close() };
  },
  { atomicConditionalWrites: false, presignedUrls: true, listsSha256: false, listsInKeyOrder: false },
);

describe('S3Store', () => {
  it('is what createStore makes of an s3 config, and keeps its keys under the prefix', async () => {
    const store = createStore({ kind: 's3', ...options({ prefix: 'kiln', conditionalWrites: 'emulated' }) });
    const outside = new S3Store(options({ prefix: '' }));
    try {
      expect(store.kind).toBe('s3');
      await store.put('models/x.json', '{}');
      const keys: string[] = [];
      for await (const info of outside.list('kiln/')) keys.push(info.key);
      expect(keys).toEqual(['kiln/models/x.json']);
    } finally {
      await store.close!();
      await outside.close();
    }
  });

  it('uses the native headers by default, which s3rver does not honour (why the suite runs emulated)', async () => {
    const store = new S3Store(options());
    try {
      await store.put('m', 'first');
      await store.put('m', 'second', { ifNoneMatch: '*' }); // AWS S3, MinIO and R2 would answer 412
      const { body } = await store.get('m');
      let text = '';
      for await (const chunk of body) text += chunk;
      expect(text).toBe('second');
    } finally {
      await store.close();
    }
  });

  it('sends the sha256 as object metadata', async () => {
    const store = new S3Store(options());
    try {
      await store.put('a', 'hello');
      const raw = await store.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'elsewhere', Body: 'x' }));
      expect(raw.ETag).toBeDefined();
      expect((await store.head('a'))?.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    } finally {
      await store.close();
    }
  });

  it('refuses to pass off a whole object as a range when the server ignores Range (s3rver, bytes=0-0)', async () => {
    const store = new S3Store(options());
    try {
      await store.put('r', 'abcdef');
      await expect(store.get('r', { start: 0, end: 0 })).rejects.toThrow('The S3 server ignored the range bytes=0-0 for r (it sent bytes 0-5/6)');
    } finally {
      await store.close();
    }
  });

  it('refuses options it cannot honour', () => {
    expect(() => new S3Store(options({ conditionalWrites: 'sometimes' as 'native' }))).toThrow(
      `Expected conditionalWrites 'native' or 'emulated' but received "sometimes"`,
    );
    expect(() => new S3Store(options({ prefix: '../up' }))).toThrow('Expected a prefix of');
  });
});
