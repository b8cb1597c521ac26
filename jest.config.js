// Three tiers (STYLE.md): *.spec.ts are pure and fast; *.int-spec.ts talk to the real PostgreSQL
// and Redis; test/e2e/*.e2e-spec.ts boot the app against the Stripe emulator. Jest runs in native
// ESM mode because the Nest 12 packages are ESM only.
const tsJest = ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }];
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@billing/domain$': '<rootDir>/libs/domain/src/index.ts',
    '^@billing/guard$': '<rootDir>/libs/billing-guard/src/index.ts',
    '^@billing/guard/(nest|express|fastify)$': '<rootDir>/libs/billing-guard/src/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': tsJest,
  },
  rootDir: '.',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.mjs',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.mjs',
    },
  ],
  collectCoverageFrom: ['libs/domain/src/**/*.ts', '!**/*.spec.ts', '!**/*.fixtures.ts', '!**/index.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: {
    './libs/domain/src/': { lines: 95, statements: 95, functions: 95, branches: 85 },
  },
  maxWorkers: 2,
  testTimeout: 30000,
};
