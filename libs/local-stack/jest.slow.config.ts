import base from './jest.config';

export default {
  ...base,
  displayName: 'local-stack (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
