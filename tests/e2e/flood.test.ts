/**
 * One hostile controller must not freeze the DAW tab (issue 9): a phone page whose init
 * script floods its own data channel with junk packets the moment it opens
 * (tests/helpers/flood.ts), beside an honest phone, in real Chromium over real WebRTC.
 * The DAW closes the flooding channel, refuses that controller's new offers for a while and
 * says so on its row, and the honest phone's hits all play, each once. Counts only: how
 * long anything took is the benchmark's business (bench/flood.ts).
 */
import { expect, it } from 'vitest';
import { type FloodResult, floodRuns, floodScript } from '../helpers/flood.ts';
import { type Jam, memberRow, peerConnections, peerIdOf, recordedHits, tapRhythm, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: 20_000 };
/** The flood's own bound: far longer than the DAW needs to close it, so a flood that ran out its time was never stopped. */
const FLOOD_MS = 15_000;

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

it('closes a flooding controller’s channel, refuses its offers for a while, shows it, and plays every honest hit once', async () => {
  await jam.startServer();
  const { daw, code } = await jam.openDaw('?record=2000');
  const honest = await jam.joinPhone(code, 'Honest');
  await waitForP2p(honest);
  await memberRow(daw, 'Honest').and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
  const honestId = await peerIdOf(daw, 'Honest');

  // The honest phone plays on while the flooder joins and floods (1-byte, 3-byte and 200-byte junk).
  const during = tapRhythm(honest, { pad: 2, count: 300, intervalMs: 10 });
  const flooder = await jam.joinPhone(code, 'Flooder', floodScript({ auto: true, ms: FLOOD_MS, sizes: [1, 3, 200] }));
  const row = memberRow(daw, 'Flooder');
  const blocked = row.getByTestId('member-blocked');
  await blocked.and(daw.locator('[data-blocked=channel]')).waitFor(WAIT);
  expect(await blocked.getAttribute('data-floods')).toBe('1');
  expect(await row.getAttribute('data-transport')).toBe('relay');
  expect(Number(await row.getByTestId('member-refused').textContent())).toBeGreaterThan(0); // its junk, counted as bad
  await during;

  // The DAW closed it: the flood stopped on a closed channel, not at the end of its own time.
  await expect.poll(async () => (await floodRuns(flooder)).length, { timeout: FLOOD_MS + 10_000 }).toBeGreaterThan(0);
  const [run] = (await floodRuns(flooder)) as [FloodResult];
  expect(run.ended).not.toBe('time');
  expect(run.sent).toBeGreaterThan(0);

  // It tries again (its link retries on its own); those offers are refused: no new connection on the DAW.
  const connections = (await peerConnections(daw)).length;
  await expect
    .poll(async () => Number(await blocked.getAttribute('data-refused-offers')), { timeout: 30_000 })
    .toBeGreaterThan(0);
  expect((await peerConnections(daw)).length).toBe(connections);
  expect(await row.getAttribute('data-transport')).toBe('relay');

  // And the honest phone still plays, over P2P.
  await tapRhythm(honest, { pad: 3, count: 50, intervalMs: 20 });
  const total = 350;
  await expect
    .poll(async () => Number(await memberRow(daw, 'Honest').getByTestId('member-hits').textContent()), WAIT)
    .toBe(total);
  await new Promise((resolve) => setTimeout(resolve, 500)); // a late copy would show up as a second play
  const hits = await recordedHits(daw);
  const mine = hits.seq.filter((_, i) => hits.peers[hits.peer[i] as number] === honestId);
  expect(mine).toHaveLength(total);
  expect(new Set(mine).size).toBe(total);
  expect(await memberRow(daw, 'Honest').getAttribute('data-transport')).toBe('p2p');
}, 120_000);
