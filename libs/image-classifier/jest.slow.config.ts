import base from './jest.config';

export default {
  ...base,
  displayName: 'image-classifier (slow)',
  testMatch: ['<rootDir>/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
