export default {
  displayName: 'endpoint',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/endpoint',
};
