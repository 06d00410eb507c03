import { describe, expect, it } from 'vitest';
import {
  barFraction,
  FALL_DB_PER_S,
  FLOOR_DB,
  HOLD_MS,
  type MeterState,
  meterRead,
  silentMeter,
} from '../../client/components/meter-ballistics.ts';

/** A meter that read `db` at time 0. */
function readAt0(db: number): MeterState {
  const meter = silentMeter(0);
  meterRead(meter, db, 0);
  return meter;
}

describe('the level meter’s ballistics', () => {
  it('jumps up to a new peak at once', () => {
    const meter = readAt0(-30);
    expect(meter.levelDb).toBe(-30);
    meterRead(meter, -3, 1);
    expect(meter.levelDb).toBe(-3);
  });

  it('holds HOLD_MS, then falls at FALL_DB_PER_S, never below the floor nor below what it reads', () => {
    const meter = readAt0(-10);
    meterRead(meter, Number.NEGATIVE_INFINITY, HOLD_MS);
    expect(meter.levelDb).toBe(-10); // held
    meterRead(meter, Number.NEGATIVE_INFINITY, HOLD_MS + 500);
    expect(meter.levelDb).toBe(-10 - FALL_DB_PER_S / 2); // 0.5 s of falling, counted from the hold's end
    meterRead(meter, -21, HOLD_MS + 600);
    expect(meter.levelDb).toBe(-21); // fallen 2 dB more, to −22: the peak read holds it up
    meterRead(meter, Number.NEGATIVE_INFINITY, 60_000);
    expect(meter.levelDb).toBe(FLOOR_DB);
  });

  it('takes silence, NaN and peaks past full scale as the floor and the top', () => {
    for (const silent of [Number.NaN, Number.NEGATIVE_INFINITY, -200]) expect(readAt0(silent).levelDb).toBe(FLOOR_DB);
    expect(readAt0(6).levelDb).toBe(0);
  });

  it('holds the bar still under a steady groove whose peaks vary a little, read 30 times a second', () => {
    const meter = silentMeter(0);
    const drawn = new Set<number>();
    let writes = 0;
    let shown = Number.NaN;
    for (let read = 0; read < 300; read++) {
      meterRead(meter, -6 - (read % 3) * 0.3, read * 33); // −6.0, −6.3, −6.6 dB, over and over
      const fraction = barFraction(meter.levelDb);
      if (fraction !== shown) writes += 1;
      shown = fraction;
      drawn.add(fraction);
    }
    expect(writes).toBe(1);
    expect([...drawn]).toEqual([barFraction(-6)]);
  });

  it('fills the bar in whole dB steps from the floor (empty) to 0 dBFS (full)', () => {
    expect(barFraction(FLOOR_DB)).toBe(0);
    expect(barFraction(-100)).toBe(0);
    expect(barFraction(Number.NaN)).toBe(0);
    expect(barFraction(0)).toBe(1);
    expect(barFraction(3)).toBe(1);
    expect(barFraction(-30)).toBe(0.5);
    expect(barFraction(-30.4)).toBe(0.5);
    expect(barFraction(-30.6)).toBe(barFraction(-31));
  });
});
