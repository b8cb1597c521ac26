import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import jest from 'eslint-plugin-jest';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'libs/*/dist/**',
      'coverage/**',
      'node_modules/**',
      '**/*.mjs',
      '**/*.js',
      'apps/stripe-emulator/schemas/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // Nest's decorators and class-validator DTOs need classes with only static members at times.
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The domain stays pure (R-ARCH-1): no framework, no ORM, no queue, no Stripe, no clock of its own.
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                'typeorm',
                'typeorm/*',
                'bull',
                'bull/*',
                '@nestjs/bull',
                'stripe',
                'stripe/*',
                'pg',
                'ioredis',
              ],
              message: 'libs/domain is pure TypeScript (R-ARCH-1).',
            },
            {
              group: ['../../apps/*', '**/apps/**'],
              message: 'libs/domain must not depend on applications.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'No floating point in money paths (R-CORE-1).',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'The domain reads no clock: take `now` as an argument.',
        },
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'The domain reads no clock: take `now` as an argument.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'The domain makes no ids or randomness: take them as arguments.',
        },
        {
          selector: "CallExpression[callee.property.name='toFixed']",
          message: 'No floating point in money paths (R-CORE-1).',
        },
      ],
    },
  },
  {
    // Only the Stripe gateway may import the SDK (R-ARCH-3); the emulator and tests use it as a client.
    files: ['apps/billing-api/src/**/*.ts'],
    ignores: ['apps/billing-api/src/platform/stripe/**', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'stripe',
              message: 'Use the Stripe gateway in platform/stripe (R-ARCH-3).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-focused-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*', 'fc.assert'] }],
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
