export default {
  displayName: 'local-stack',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/local-stack',
};
