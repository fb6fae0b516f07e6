import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Unit tests sit next to their source; test/e2e holds Playwright specs, run by Playwright.
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['**/node_modules/**', 'out/**', 'dist/**', 'test/e2e/**', 'test/fixtures/**'],
  },
});
