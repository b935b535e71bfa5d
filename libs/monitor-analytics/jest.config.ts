export default {
  displayName: 'monitor-analytics',
  preset: '../../jest.preset.js',
  // Real servers, child processes and chart rendering on a shared 2-core machine: 5 s is too tight.
  testTimeout: 60_000,
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/monitor-analytics',
};
