import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformWithOxc } from 'vite';
import { describe, expect, it } from 'vitest';
import { buildTargets, phoneBrowsers } from '../../scripts/browser-floor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Built for the phones' floor (iOS Safari 15.4), every class field is lowered (WebKit bug 236843),
 * and a `#private` member becomes a WeakMap lookup on every use: ~14× slower sends in
 * bench/phone-lowering.ts. The classes a tap goes through keep TypeScript `private` instead.
 */
const HIT_PATH = ['client/net/hit-sender.ts', 'client/net/hits.ts', 'client/net/peer-channel.ts'];

describe('the phone’s hit path, built for the floor', () => {
  it.each(HIT_PATH)('%s has no #private member to lower into WeakMaps', async (file) => {
    const source = readFileSync(join(root, file), 'utf8');
    const { code } = await transformWithOxc(source, join(root, file), { target: buildTargets(phoneBrowsers()) });
    // The transform does lower class fields for this target (so the check below means something)…
    expect(code).toMatch(/defineProperty/);
    // …but nothing of a private member's machinery is left.
    expect(code).not.toMatch(/classPrivate|new WeakMap|new WeakSet|assertClassBrand/);
  });

  it('ControllerLink.hit() reaches the sender through a plain property', async () => {
    const file = join(root, 'client/net/controller-link.ts');
    const { code } = await transformWithOxc(readFileSync(file, 'utf8'), file, {
      target: buildTargets(phoneBrowsers()),
    });
    expect(code).toMatch(/hit\(pad, velocity\) \{\s*return this\.sender\.send\(pad, velocity\);/);
  });
});
