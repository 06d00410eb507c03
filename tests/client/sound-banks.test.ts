import { describe, expect, it } from 'vitest';
import type { Part } from '../../client/audio/instruments.ts';
import { SoundBanks } from '../../client/state/sound-banks.ts';

const part = (instrument: Part['instrument'], octave = 3, key = 0): Part => ({
  instrument,
  octave,
  key,
  scale: 'major',
});

describe('SoundBanks', () => {
  it('puts drummers on the kit and each melodic part in a bank of its own, shared by its players', () => {
    const banks = new SoundBanks(4);
    const update = banks.update(
      new Map([
        ['a', part('drums')],
        ['b', part('bass', 1)],
        ['c', part('keys')],
        ['d', part('bass', 1)],
      ]),
    );
    expect(update.loads.map((load) => [load.bank, load.part.instrument])).toEqual([
      [1, 'bass'],
      [2, 'keys'],
    ]);
    expect(update.slotBase).toEqual(
      new Map([
        ['a', 0],
        ['b', 16],
        ['c', 32],
        ['d', 16],
      ]),
    );
    expect(update.unplaced).toEqual([]);
  });

  it('renders nothing again for a part still played, and frees a bank nobody plays', () => {
    const banks = new SoundBanks(3);
    banks.update(
      new Map([
        ['b', part('bass', 1)],
        ['c', part('keys')],
      ]),
    );
    // c changes to pluck: keys' bank is free again and pluck takes it; bass stays put.
    const update = banks.update(
      new Map([
        ['b', part('bass', 1)],
        ['c', part('pluck')],
      ]),
    );
    expect(update.loads.map((load) => [load.bank, load.part.instrument])).toEqual([[2, 'pluck']]);
    expect(update.slotBase.get('b')).toBe(16);
    expect(update.slotBase.get('c')).toBe(32);
  });

  it('renders a bank anew when the key changes, since every note does', () => {
    const banks = new SoundBanks(3);
    banks.update(new Map([['b', part('bass', 1, 0)]]));
    const update = banks.update(new Map([['b', part('bass', 1, 7)]]));
    expect(update.loads).toHaveLength(1);
    expect(update.loads[0]?.part.key).toBe(7);
  });

  it('keeps a player on the kit, and says so, when every bank is taken', () => {
    const banks = new SoundBanks(2); // the kit and one melodic bank
    const update = banks.update(
      new Map([
        ['b', part('bass', 1)],
        ['c', part('keys')],
      ]),
    );
    expect(update.loads).toHaveLength(1);
    expect(update.unplaced).toEqual(['c']);
    expect(update.slotBase.get('c')).toBe(0);
    // b leaves the bass: c gets the bank.
    const next = banks.update(new Map([['c', part('keys')]]));
    expect(next.loads.map((load) => load.part.instrument)).toEqual(['keys']);
    expect(next.unplaced).toEqual([]);
    expect(next.slotBase.get('c')).toBe(16);
  });
});
