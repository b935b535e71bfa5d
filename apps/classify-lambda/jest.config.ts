export default {
  displayName: 'classify-lambda',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/classify-lambda',
};
