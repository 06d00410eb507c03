import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (everything but tests/e2e: pure code, real sockets on loopback) and `e2e`
 * (real Chromium pages, real WebRTC, network namespaces). Their bounds differ because a loaded
 * 2-core machine slows a browser test by tens of seconds, not a unit test: each bound only
 * catches a hang, and every test waits for events, never for a fixed time.
 */
export default defineConfig({
  test: {
    environment: 'node',
    // These tests open real sockets; a leaked handle should fail loudly, not hang CI.
    teardownTimeout: 5_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**'],
          testTimeout: 15_000,
          hookTimeout: 15_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
