export default {
  displayName: 'stack-core',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/stack-core',
};
