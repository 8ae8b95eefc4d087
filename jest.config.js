/** Tests run against real Redis, a real S3-protocol server (s3rver) and real ONNX Runtime. */
module.exports = {
  // ONNX Runtime's native tensors need the host's typed arrays (see the file).
  testEnvironment: '<rootDir>/test/helpers/ort-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is done once by `tsc --noEmit` in `npm test`; per-file transpiling keeps jest fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 60000,
  // Two cores: integration suites share Redis and spawn processes; two workers keeps them fast and stable.
  maxWorkers: 2,
};
