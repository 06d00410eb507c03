/**
 * The built-in kits as data: what the phones show (16 pads, names ≤ 24 characters, colours) and
 * what the renderer relies on (layers ascending in (0, 1], a length, a play function). How they
 * sound is checked by rendering them in real Chromium: tests/e2e/kit-render.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { KIT } from '../../client/audio/kit.ts';
import { BUILT_IN_KITS, ELECTRONIC_KIT } from '../../client/audio/kits/index.ts';
import { LONGEST_SOUND } from '../../client/audio/kits/voices.ts';

describe('the built-in kits', () => {
  it('are at least three, with distinct ids', () => {
    expect(BUILT_IN_KITS.length).toBeGreaterThanOrEqual(3);
    expect(new Set(BUILT_IN_KITS.map((kit) => kit.id)).size).toBe(BUILT_IN_KITS.length);
  });

  it.each(BUILT_IN_KITS.map((kit) => [kit.id, kit] as const))(
    '%s: 16 pads a phone can show and a renderer can render',
    (_id, kit) => {
      expect(kit.pads.length).toBe(16);
      expect(Number.isInteger(kit.version) && kit.version > 0).toBe(true);
      expect(new Set(kit.pads.map((pad) => pad.id)).size).toBe(16);
      for (const pad of kit.pads) {
        expect(pad.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(pad.name.length).toBeGreaterThan(0);
        expect(pad.name.length).toBeLessThanOrEqual(24);
        expect(pad.color).toMatch(/^#[0-9a-f]{6}$/);
        expect(pad.layers.length).toBeGreaterThan(0);
        pad.layers.forEach((velocity, i) => {
          expect(velocity).toBeGreaterThan(0);
          expect(velocity).toBeLessThanOrEqual(1);
          if (i > 0) expect(velocity).toBeGreaterThan(pad.layers[i - 1] as number);
        });
        expect(pad.length).toBeGreaterThan(0);
        expect(pad.length).toBeLessThanOrEqual(LONGEST_SOUND); // shared sources run that long
        expect(typeof pad.play).toBe('function');
      }
    },
  );

  it('give the electronic kit the pads the phones knew, and the closed hat chokes the open hat', () => {
    expect(ELECTRONIC_KIT.pads.map(({ id, name, color }) => ({ id, name, color }))).toEqual(KIT);
    const group = (id: string) => ELECTRONIC_KIT.pads.find((pad) => pad.id === id)?.chokeGroup ?? 0;
    expect(group('hat-closed')).toBeGreaterThan(0);
    expect(group('hat-open')).toBe(group('hat-closed'));
    expect(ELECTRONIC_KIT.pads.filter((pad) => (pad.chokeGroup ?? 0) > 0).length).toBe(2);
  });
});
