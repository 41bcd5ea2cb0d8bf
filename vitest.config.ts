import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Recovery and sendfile tests spawn processes and move hundreds of MB: give them room
    // on a 2-core machine, but keep files isolated so a crash in one file fails only that file.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
