export default {
  displayName: 'image-classifier',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/image-classifier',
};
