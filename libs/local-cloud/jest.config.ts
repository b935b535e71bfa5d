export default {
  displayName: 'local-cloud',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/local-cloud',
};
