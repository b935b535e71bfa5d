export default {
  displayName: 'workflow',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/workflow',
};
