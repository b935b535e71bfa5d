export default {
  displayName: 'filter-lambda',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/filter-lambda',
};
