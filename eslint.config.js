// ESLint flat config. typescript-eslint's recommended rules without type information: type-aware
// linting would re-run the type checker, which `tsc -b` already does, and is slow on CI's 2 cores.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      '**/node_modules/',
      'out/',
      'dist/',
      'coverage/',
      'test-results/',
      'playwright-report/',
      'bench/results/',
      '.gl/',
      '.devpack/',
      '.whl/',
      '**/*.generated.*',
      'test/fixtures/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Ambient declarations of host globals must be `declare var` (globalThis properties).
    files: ['**/*.d.ts'],
    rules: { 'no-var': 'off' },
  },
  {
    // Plain JavaScript here is Node tooling (scripts, bin, configs).
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: globals.node },
  },
);
