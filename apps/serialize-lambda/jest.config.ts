export default {
  displayName: 'serialize-lambda',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/serialize-lambda',
};
