// Jest runs the TypeScript sources as native ESM (node --experimental-vm-modules), compiled by SWC.
// Workspace packages resolve to their sources so unit tests need no build; cross-process tests in
// tests/ start the built services (the test script builds first).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    '^@frostd/(frost|transport|cli)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/tests/**/*.test.ts', '<rootDir>/services/*/tests/**/*.test.ts', '<rootDir>/tests/**/*.test.ts'],
  testTimeout: 60000,
};
