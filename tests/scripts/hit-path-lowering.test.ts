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

/**
 * One build serves both pages, so the DAW's side of a hit is lowered the same way: every class a
 * received hit passes through (receive → decode → timing → engine trigger → ring → the AudioWorklet,
 * which runs sampler-core.ts every render quantum) keeps TypeScript `private` too.
 */
const DAW_HIT_PATH = [
  'client/net/daw-peers.ts',
  'client/net/seq-window.ts',
  'client/net/hit-timing.ts',
  'client/net/clock-sync.ts',
  'client/audio/audio-clock.ts',
  'client/audio/voice-bookings.ts',
  'client/audio/engine.ts',
  'client/audio/sampler/ahead-quota.ts',
  'client/audio/sampler/hit-ring.ts',
  'client/midi/midi-out.ts',
  'client/recording/take.ts',
  'client/audio/sampler/worklet.ts',
  'client/audio/sampler/sampler-core.ts',
  'client/state/hit-recorder.ts',
  'client/state/jam.ts',
];
const PRIVATE_MACHINERY = /classPrivate|new WeakMap|new WeakSet|assertClassBrand/;

describe('the DAW’s hit path, built for the floor', () => {
  it('the floor target does turn a #private member into that machinery (so the checks below mean something)', async () => {
    const { code } = await transformWithOxc('export class A { #n = 0; get n() { return this.#n; } }', 'a.ts', {
      target: buildTargets(phoneBrowsers()),
    });
    expect(code).toMatch(PRIVATE_MACHINERY);
  });

  it.each(DAW_HIT_PATH)('%s has no #private member to lower into WeakMaps', async (file) => {
    const source = readFileSync(join(root, file), 'utf8');
    const { code } = await transformWithOxc(source, join(root, file), { target: buildTargets(phoneBrowsers()) });
    expect(code).not.toMatch(PRIVATE_MACHINERY);
  });
});

/**
 * The rest of the phone's link code (off a tap's path) keeps TypeScript `private` too, for bytes: the
 * lowered `#private` members and their helpers were ~0.3 KB of the controller's gzipped entry chunk,
 * which must not grow (issue 10), and with these gone it holds no private machinery at all.
 */
const PHONE_LINK = ['client/net/controller-link.ts', 'client/net/link-machine.ts', 'client/net/peer-stream.ts'];

describe('the phone’s link code, built for the floor', () => {
  it.each(PHONE_LINK)('%s has no #private member to lower into WeakMaps', async (file) => {
    const source = readFileSync(join(root, file), 'utf8');
    const { code } = await transformWithOxc(source, join(root, file), { target: buildTargets(phoneBrowsers()) });
    expect(code).not.toMatch(PRIVATE_MACHINERY);
  });
});
