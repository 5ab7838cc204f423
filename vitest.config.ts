import { defineConfig } from 'vitest/config';

// The JSON report lets .ci/run print a plain "N passed, N failed" line that CI can read.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/vitest.json' },
    testTimeout: 60_000,
  },
});
