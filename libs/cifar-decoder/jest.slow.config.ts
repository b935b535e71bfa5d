import base from './jest.config';

export default {
  ...base,
  displayName: 'cifar-decoder (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
