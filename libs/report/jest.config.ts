export default {
  displayName: 'report',
  preset: '../../jest.preset.js',
  // Real servers, child processes, chart rendering and embedding tests with thousands of kernel
  // permutations, on a shared 2-core machine: a generous bound, never an expectation of speed.
  testTimeout: 180_000,
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/report',
};
