import base from './jest.config';

export default {
  ...base,
  displayName: 'stack-core (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
