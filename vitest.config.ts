import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // These tests open real sockets; a leaked handle should fail loudly, not hang CI.
    teardownTimeout: 5_000,
  },
});
