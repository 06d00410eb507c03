import { describe, expect, it } from 'vitest';
import { SEQ_WINDOW, SeqWindow } from '../../client/net/seq-window.ts';

describe('SeqWindow: each hit plays once', () => {
  it('accepts a run in order', () => {
    const window = new SeqWindow();
    expect([0, 1, 2, 3].map((seq) => window.accept(1, seq))).toEqual(['new', 'new', 'new', 'new']);
    expect(window.lost).toBe(0);
  });

  it('refuses a second copy, in order or not', () => {
    const window = new SeqWindow();
    window.accept(1, 0);
    window.accept(1, 1);
    expect(window.accept(1, 1)).toBe('duplicate');
    expect(window.accept(1, 0)).toBe('duplicate');
  });

  it('takes a late hit once, and counts a gap as lost until it is filled', () => {
    const window = new SeqWindow();
    window.accept(1, 0);
    expect(window.accept(1, 3)).toBe('new');
    expect(window.lost).toBe(2);
    expect(window.accept(1, 2)).toBe('new');
    expect(window.lost).toBe(1);
    expect(window.accept(1, 2)).toBe('duplicate');
    expect(window.lost).toBe(1);
  });

  it('drops as stale what is older than the window (it cannot tell it from a replay)', () => {
    const window = new SeqWindow();
    window.accept(1, 0);
    window.accept(1, SEQ_WINDOW + 10);
    expect(window.accept(1, 5)).toBe('stale');
    expect(window.accept(1, 10)).toBe('stale');
    expect(window.accept(1, 11)).toBe('new');
  });

  it('counts at most a window of loss for one jump', () => {
    const window = new SeqWindow();
    window.accept(1, 0);
    window.accept(1, 1_000_000);
    expect(window.lost).toBe(SEQ_WINDOW);
  });

  it('starts over for a new epoch (the controller page was reloaded and counts from 0 again)', () => {
    const window = new SeqWindow();
    for (let seq = 0; seq < 500; seq++) window.accept(1, seq);
    expect(window.accept(2, 0)).toBe('new');
    expect(window.accept(2, 1)).toBe('new');
    expect(window.accept(2, 0)).toBe('duplicate');
  });

  it('does not confuse seqs that share a slot', () => {
    const window = new SeqWindow();
    window.accept(1, 1);
    window.accept(1, 1 + SEQ_WINDOW); // same slot, now the newest
    expect(window.accept(1, 1 + SEQ_WINDOW)).toBe('duplicate');
    expect(window.accept(1, SEQ_WINDOW)).toBe('new');
  });

  it('plays every hit exactly once under heavy reordering and triple copies', () => {
    const window = new SeqWindow();
    const order: number[] = [];
    for (let base = 0; base < 2000; base += 50) {
      const block = Array.from({ length: 50 }, (_, i) => base + i);
      for (let i = block.length - 1; i > 0; i--) {
        const j = (i * 7919 + base) % (i + 1);
        [block[i], block[j]] = [block[j] as number, block[i] as number];
      }
      for (const seq of block) order.push(seq, seq, seq);
    }
    const played = order.filter((seq) => window.accept(9, seq) === 'new');
    expect(played.length).toBe(2000);
    expect(new Set(played).size).toBe(2000);
    expect(window.lost).toBe(0);
  });
});
