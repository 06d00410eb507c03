/**
 * Redundancy under real packet loss: a DAW on the laptop and a phone, two network namespaces
 * joined by the userspace wire (tests/helpers/faulty-lan.ts), P2P over it, and then the
 * laptop drops every third UDP packet from the phone with nftables (`numgen inc`: loss with
 * no chance in it, so the test cannot flake). Each hit goes out three times, in later
 * packets or tail packets of its own (client/net/hit-sender.ts), so none is lost, and the
 * DAW plays each once. Without the redundancy about a third of the hits would be gone.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { HOLD_MS } from '../../client/net/hit-sender.ts';
import { FaultyLan } from '../helpers/faulty-lan.ts';
import { memberRow, recordedHits, tapRhythm, WAIT, waitForP2p } from '../helpers/jam.ts';

/** Building the LAN starts namespaces, the wire and two Chromiums: seconds, more on a busy machine. */
const BUILD_MS = 120_000;

let faulty: FaultyLan | undefined;
beforeAll(async () => {
  faulty = await FaultyLan.create({ delayMs: 2, jitterMs: 0 });
}, BUILD_MS);
afterAll(async () => {
  await faulty?.close();
}, BUILD_MS);
afterEach(async () => {
  if (!faulty) return;
  const errors = [...faulty.lan.errors];
  await faulty.lan.reset();
  expect(errors).toEqual([]);
});

it('loses no hit and plays none twice when every third packet from the phone is dropped', async () => {
  if (!faulty) throw new Error('the faulty LAN was not built');
  const { lan } = faulty;
  await lan.startServer({ stun: true });
  const { daw, joinUrl } = await lan.openDaw('?record=1000');
  const phone = await lan.joinPhone(joinUrl, 'Lossy');
  await waitForP2p(phone);
  await memberRow(daw, 'Lossy').and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
  const dropped = faulty.dropEveryNth('laptop', 3);

  // A fast roll (each hit's copies ride the next hits) and single taps (their copies go alone).
  await tapRhythm(phone, { pad: 1, count: 60, intervalMs: 8 });
  await tapRhythm(phone, { pad: 5, count: 20, intervalMs: 120 });
  await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBeGreaterThanOrEqual(80);
  // Any late copy would show up as a second play. A copy is never sent more than HOLD_MS after
  // its tap (product semantics, so this wait is a minimum), and then it has left the wire once
  // nothing from the phone waits there.
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  await expect.poll(async () => (await faulty?.wireStats())?.phoneToLaptop.queued, WAIT).toBe(0);

  const hits = await recordedHits(daw);
  expect(dropped()).toBeGreaterThan(25); // the loss was real
  expect(hits.count).toBe(80);
  expect([...hits.seq].sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i));
  expect(hits.via.every((via) => via === 0)).toBe(true); // all P2P: none rescued by the relay
  const row = memberRow(daw, 'Lossy');
  await expect.poll(async () => Number(await row.getByTestId('member-hits').textContent()), WAIT).toBe(80);
  expect(Number(await row.getByTestId('member-lost').textContent())).toBe(0);
});
