export default {
  displayName: 'model-server',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/model-server',
};
