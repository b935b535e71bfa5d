export default {
  displayName: 'cifar-decoder',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/cifar-decoder',
};
