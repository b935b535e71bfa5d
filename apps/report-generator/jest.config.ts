export default {
  displayName: 'report-generator',
  preset: '../../jest.preset.js',
  // Real servers, child processes, TensorFlow.js and chart rendering on a shared 2-core machine: a
  // generous bound, never an expectation of speed.
  testTimeout: 180_000,
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/report-generator',
};
