import { describe, expect, it } from 'vitest';
import { formatDelayMs, formatMs, negativeDelayNote } from '../../client/components/format.ts';

describe('formatMs', () => {
  it('shows one decimal below 10 ms and whole ms above', () => {
    expect(formatMs(0.44)).toBe('0.4');
    expect(formatMs(9.94)).toBe('9.9');
    expect(formatMs(12.4)).toBe('12');
  });
});

describe('formatDelayMs: a one-way delay is never shown below 0', () => {
  it('shows a delay of 0 or more as it was measured', () => {
    expect(formatDelayMs(0, 0.5)).toBe('0.0');
    expect(formatDelayMs(3.21, 0.5)).toBe('3.2');
    expect(formatDelayMs(23.4, null)).toBe('23');
  });

  it('shows a delay measured below 0 as under the clock’s uncertainty, rounded up, or ≈0 without one', () => {
    // −0.88 ms measured (the case) with a best round trip of 0.88 ms: somewhere in 0–0.44 ms.
    expect(formatDelayMs(-0.88, 0.44)).toBe('<0.5');
    expect(formatDelayMs(-3, 12.1)).toBe('<13');
    expect(formatDelayMs(-0.88, null)).toBe('≈0');
    expect(formatDelayMs(-0.88, undefined)).toBe('≈0');
    expect(formatDelayMs(-0.88, 0)).toBe('≈0');
    expect(formatDelayMs(-0.88, Number.NaN)).toBe('≈0');
    for (const text of [formatDelayMs(-0.01, 1), formatDelayMs(-500, 0.2), formatDelayMs(-1e-9, null)]) {
      expect(text).not.toMatch(/-|−/);
    }
  });

  it('says why in the tooltip, only for a delay measured below 0', () => {
    expect(negativeDelayNote(-0.88)).toBe(
      'Measured -0.88 ms: the clock offset estimate is off by at least 0.88 ms, so the delay is too small to tell.',
    );
    expect(negativeDelayNote(0)).toBe('');
    expect(negativeDelayNote(4)).toBe('');
  });
});
