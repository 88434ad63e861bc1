import { defineConfig } from 'vitest/config';

// Two tiers: unit tests beside the code (pure logic, real HTTP on loopback where needed), and e2e
// tests against the real local control plane that e2e/global-setup.ts starts once per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{core,gateway,operator,plugin,crds,hack}/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          environment: 'node',
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // One control plane, shared: files run one at a time so logs and timings stay readable.
          fileParallelism: false,
        },
      },
    ],
  },
});
