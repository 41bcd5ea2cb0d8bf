import { defineConfig } from 'vitest/config';

// Most test files wait on processes, sockets and timers far more than they compute, so two run at
// a time (vitest's default on a 2-core machine is one): one at a time the suite took 21 minutes
// of a CI run's 28. Files that change what every other process on the machine sees run alone,
// after the rest: the nftables partitions drop loopback traffic between 127.0.0.2-.4, which
// other cluster tests' brokers bind too (test/fixtures/nft.ts).
const EXCLUSIVE_FILES = ['test/cluster/nft.test.ts', 'test/cluster/network-partition.test.ts'];
/** Test files run at once outside EXCLUSIVE_FILES. */
const PARALLEL_FILES = 2;

const common = {
  // Recovery and sendfile tests spawn processes and move hundreds of MB: give them room on a
  // 2-core machine, but keep files isolated so a crash in one file fails only that file.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
  // Builds dist/ when src/ changed, and lets processes and threads the tests start run from it.
  globalSetup: ['test/global-setup.ts'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...common,
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: EXCLUSIVE_FILES,
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...common,
          name: 'exclusive',
          include: EXCLUSIVE_FILES,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
