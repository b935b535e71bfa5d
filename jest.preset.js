// Shared Jest preset: ts-jest without type-checking (the `build` target type-checks),
// and the @scones/* path aliases of tsconfig.base.json mapped to library sources.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}

// Node 20 is supported; keep the SDK's notice about its 2027 releases out of every test log
// (Jest workers inherit this environment).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.slow\\.spec\\.ts$'],
  coverageReporters: ['text-summary', 'html'],
  maxWorkers: 2,
  // Jest's 5 s default fails tests that start a real CLI (aws, python3, node) when another process
  // keeps both cores busy; a test that hangs still fails, after a minute. No test asserts a duration.
  testTimeout: 60_000,
};
