export default {
  displayName: 'cli',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/cli',
  // The commands load their work on use with `await import('./<command>-run.js')`. Under Jest
  // (CommonJS, no native ESM) that must become a require() through Jest's registry, where the
  // specs' SDK mocks live: compile to CommonJS and map the .js specifier to the source.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node10', types: ['jest', 'node'] }, diagnostics: false }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
