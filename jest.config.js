// Jest runs the TypeScript sources as native ESM (node --experimental-vm-modules), compiled by SWC.
// Workspace packages resolve to their sources, so unit tests need no build. Two projects:
//   unit  packages/*/tests, services/*/tests: in-process only, no build, seconds (`pnpm test:unit`)
//   e2e   tests/: real processes, TLS, the production install, frost-rs (needs the build; `pnpm test`)
// The services' entry points (`@hoarfrost/signer/main`, `@hoarfrost/coordinator/main`) are not mapped:
// the test kit resolves them to their builds and runs them as processes.

/** @type {import('jest').Config} */
const shared = {
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
    '^@hoarfrost/(frost|rpc|runtime|cli|testkit)$': '<rootDir>/packages/$1/src/index.ts',
    '^@hoarfrost/testkit/support$': '<rootDir>/packages/testkit/src/support.ts',
    '^@hoarfrost/(signer|coordinator)$': '<rootDir>/services/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Cargo build trees under the roots hold thousands of files jest has no use for.
  modulePathIgnorePatterns: ['<rootDir>/packages/frost/native/target/', '<rootDir>/tests/frost-rs/target/'],
};

/** @type {import('jest').Config} */
export default {
  // Global (not per project) in jest's config model; the cross-process suites need the headroom.
  testTimeout: 60000,
  // A handle left open by some suite (not yet found: the run of 2026-11-21 finished every test, then
  // never exited) must not hold CI until its time limit: exit once the results are written.
  forceExit: true,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/packages', '<rootDir>/services'],
      testMatch: ['<rootDir>/packages/*/tests/**/*.test.ts', '<rootDir>/services/*/tests/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/tests'],
      testMatch: ['<rootDir>/tests/**/*.test.ts'],
    },
  ],
};
