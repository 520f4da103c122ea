/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/tests'],
  modulePathIgnorePatterns: ['<rootDir>/.tools', '<rootDir>/.data', '<rootDir>/dist'],
  testMatch: ['**/*.test.ts'],
  // Type checking runs once in `npm test` (tsc --noEmit); transpile-only keeps jest fast.
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Starts the stores, and builds the web UI for tests/e2e when web/ changed since the last build.
  globalSetup: '<rootDir>/tests/e2e/global-setup.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  // The multi-process crash test kills an app without its cleanup on purpose; a handle it leaves
  // must not keep CI waiting. Leaks elsewhere still show as jest's "did not exit" warning locally.
  forceExit: true,
};
