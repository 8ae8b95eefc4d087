/** One place that turns configuration into a store, so the API, workers and CLI agree. */
import type { ArtifactStore } from './artifact-store';
import { StoreError } from './errors';
import { FsStore, type FsStoreOptions } from './fs-store';
import { S3Store, type S3StoreOptions } from './s3-store';

export type StoreConfig =
  | ({ kind: 'filesystem'; /** Root directory, e.g. `./.kiln/data`. */ dir: string } & FsStoreOptions)
  | ({ kind: 's3' } & S3StoreOptions);

export function createStore(config: StoreConfig): ArtifactStore {
  switch (config.kind) {
    case 'filesystem': {
      const { dir, ...options } = config;
      return new FsStore(dir, options);
    }
    case 's3': {
      const { kind: _kind, ...options } = config;
      return new S3Store(options);
    }
    default:
      throw new StoreError(`Expected a store kind of filesystem or s3 but received ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
}
