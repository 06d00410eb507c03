/** Fake timers around every test of the file (or `describe`) that calls this, real ones after. */
import { afterEach, beforeEach, vi } from 'vitest';

export function useFakeTimersEachTest(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
