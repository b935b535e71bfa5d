import base from './jest.config';

export default {
  ...base,
  displayName: 'workflow (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
