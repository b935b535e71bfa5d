import base from './jest.config';

export default {
  ...base,
  displayName: 'model-server (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
