import base from './jest.config';

export default {
  ...base,
  displayName: 'endpoint (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
