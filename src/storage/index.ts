export * from './artifact-store';
export * from './errors';
export { assertValidKey, assertValidPrefix } from './key-rules';
export { VerifyingHasher, integrityProblem, type Expected } from './verifying-hasher';
export { FsStore, type FsStoreOptions } from './fs-store';
export { S3Store, type S3StoreOptions } from './s3-store';
export { createStore, type StoreConfig } from './create-store';
export * from './layout';
export * from './publish';
