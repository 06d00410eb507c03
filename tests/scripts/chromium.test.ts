import { describe, expect, it } from 'vitest';
import { findChromium } from '../../scripts/chromium.ts';

describe('findChromium', () => {
  it('takes CHROMIUM_PATH when it exists, and says none when it does not', () => {
    expect(findChromium({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
    expect(findChromium({ CHROMIUM_PATH: '/nowhere/chromium' })).toBeNull();
  });
});
