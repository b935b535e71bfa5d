import config from './jest.config';

export default {
  ...config,
  displayName: 'infra-slow',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
