export default {
  displayName: 'payload-schemas',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/payload-schemas',
};
