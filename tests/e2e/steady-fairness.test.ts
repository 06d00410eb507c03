/**
 * Issue 9, item 11, and issue 10's voice fairness, end to end: in steady mode one player's plan
 * must never delay another player's hit, and a player who fills the sampler's voices loses its
 * own, never another's. Real headless Chromium, real WebRTC, the real engine (the AudioWorklet
 * sampler playing the kit rendered); only inside a loopback-only network namespace (see
 * tests/helpers/jam.ts).
 *
 * A hostile phone plans the kick far ahead: first it stamps its taps 145 ms before they happen
 * (an init script rewrites the `sentAt` of its HIT packets), so the DAW measures ~146 ms
 * transits and sets its steady delay to ~148 ms at the next phrase; then, in that phrase, it
 * stamps them truly and hammers the kick (200/s), so each of its hits is planned up to ~147 ms
 * after it arrives (less its real transit), and its kicks ring on long enough to fill every
 * voice. An honest phone (loopback: a steady delay of a few ms) plays the kick at the same
 * time. Its hits must start at their own planned time, with the hostile's planned after them
 * already waiting, must not be counted late for it, and must never lose a voice.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { RecordedHits } from '../../client/state/hit-recorder.ts';
import { type Jam, memberRow, peerIdOf, recordedHits, tapRhythm, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: 15_000 };
/** How early the hostile stamps its taps while the DAW measures it: just under the 150 ms cap. */
const EARLY_MS = 145;
/**
 * How far an honest sound may start from where it was due (max(planned time, the audio clock when
 * the engine took it)). The engine hands over the exact time asked for (the sampler starts it on
 * that frame: tests/e2e/engine.test.ts hears it); the defect issue 9 fixed put it ~140 ms later,
 * behind the hostile's plans. 1 ms is far below that, and independent of load: both times are on
 * the audio clock, taken as the hit is handed over.
 */
const TOLERANCE_MS = 1;
/** An honest hit is contested when at least this many of the hostile's kicks, arrived before it, were planned after it. */
const CONTESTED = 3;

/**
 * Phone init script: HIT packets (first byte 1; `[1][count][0 u16][epoch u32]`, then count ×
 * `[seq u32][pad u8][velocity u8][sentAt f64 LE]`, hits.ts) leave with every `sentAt` moved
 * `window.padmeshEarlyMs` into the past. The sender reuses its buffer, so a copy is changed.
 */
const EARLY_STAMPS = `{
  window.padmeshEarlyMs = 0;
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    if (!(data instanceof Uint8Array) || data[0] !== 1 || window.padmeshEarlyMs === 0) return send.call(this, data);
    const copy = data.slice();
    const view = new DataView(copy.buffer);
    for (let i = 0; i < copy[1]; i++) {
      const at = 8 + 14 * i + 6;
      view.setFloat64(at, view.getFloat64(at, true) - window.padmeshEarlyMs, true);
    }
    return send.call(this, copy);
  };
}`;

const setEarly = (phone: Page, ms: number) =>
  phone.evaluate((value) => {
    (window as unknown as { padmeshEarlyMs: number }).padmeshEarlyMs = value;
  }, ms);

const clearRecorder = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { clear(): void } }).padmeshRecorder.clear());

/** Waits (bounded) until the DAW has recorded `count` hits from `peer`. */
const waitForHits = (daw: Page, peer: string, count: number) =>
  expect
    .poll(async () => {
      const hits = await recordedHits(daw);
      const index = hits.peers.indexOf(peer);
      return hits.peer.filter((p) => p === index).length;
    }, WAIT)
    .toBeGreaterThanOrEqual(count);

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

describe('steady mode with a hostile player', () => {
  it('starts an honest player’s hits at their own time however far ahead another plans, and takes voices only from the hostile', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=5000');
    const hostile = await jam.joinPhone(code, 'Hostile', EARLY_STAMPS);
    const honest = await jam.joinPhone(code, 'Honest');
    await Promise.all([waitForP2p(hostile), waitForP2p(honest)]);
    await memberRow(daw, 'Hostile').getByTestId('member-offset').waitFor(WAIT);
    await memberRow(daw, 'Honest').getByTestId('member-offset').waitFor(WAIT);
    const hostileId = await peerIdOf(daw, 'Hostile');
    const honestId = await peerIdOf(daw, 'Honest');
    await daw.getByTestId('mode-steady').click();
    await hostile.locator('[data-testid=timing-badge][data-mode=steady]').waitFor(WAIT);

    // Rounds (at most 3) until the honest player's kick has met the hostile's planned after it 6
    // times: a busy machine can make its path, so its steady delay, as long as the hostile's.
    const report: string[] = [];
    let contested = 0;
    for (let round = 0; round < 3 && contested < 6; round++) {
      // The DAW measures both players' paths afresh (its last 64 hits each): the honest one's, a
      // few ms on loopback; the hostile's, 146 ms, as its taps are stamped.
      await setEarly(hostile, EARLY_MS);
      await clearRecorder(daw);
      await Promise.all([
        tapRhythm(hostile, { pad: 1, count: 70, intervalMs: 10 }),
        tapRhythm(honest, { pad: 2, count: 64, intervalMs: 25 }),
      ]);
      await waitForHits(daw, hostileId, 70);
      await waitForHits(daw, honestId, 64);
      await setEarly(hostile, 0);
      // A pause of over a second: the next hits start a phrase, where a player's steady delay is set.
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      await clearRecorder(daw);

      // The hostile hammers the kick, each hit planned ~147 ms ahead; once it has, the honest player plays it too.
      const hammer = tapRhythm(hostile, { pad: 0, count: 400, intervalMs: 5 });
      hammer.catch(() => {}); // awaited below; a failure before then must not leave it unhandled
      await waitForHits(daw, hostileId, 40);
      await tapRhythm(honest, { pad: 0, count: 12, intervalMs: 90 });
      await hammer;
      await waitForHits(daw, honestId, 12);
      const hits = await recordedHits(daw);
      const of = (peer: string) => {
        const index = hits.peers.indexOf(peer);
        return [...Array(hits.count).keys()].filter((i) => hits.peer[i] === index);
      };
      const hostileHits = of(hostileId);
      const honestHits = of(honestId);
      expect(honestHits.length).toBe(12);
      // The hostile did plan ahead: its hits were planned ~147 ms after they arrived.
      const leads = hostileHits
        .filter((i) => !Number.isNaN(hits.playAt[i] as number))
        .map((i) => (hits.playAt[i] as number) - (hits.arrivedAt[i] as number));
      expect(leads.length).toBeGreaterThan(100);
      expect(median(leads)).toBeGreaterThan(100);

      for (const i of honestHits) {
        const planned = kickPlannedAfter(hits, hostileHits, i);
        const line = describeHit(hits, i, planned);
        report.push(`round ${round}: ${line}`);
        if (planned < CONTESTED) continue;
        contested += 1;
        // Due at its planned time, or now if the audio clock had passed that (or it was played at once).
        const plannedAt = hits.plannedAt[i] as number;
        const due = Number.isNaN(plannedAt)
          ? (hits.clockAt[i] as number)
          : Math.max(plannedAt, hits.clockAt[i] as number);
        const audioAt = hits.audioAt[i] as number;
        if (!Number.isNaN(plannedAt)) expect(audioAt, line).toBeGreaterThanOrEqual(plannedAt);
        expect(audioAt - due, line).toBeLessThan(TOLERANCE_MS); // NaN (not played) fails too
        // Counted late only if it was (the audio clock itself had passed its time), never for the other player.
        if (!Number.isNaN(plannedAt) && hits.late[i] === 1)
          expect(hits.clockAt[i] as number, line).toBeGreaterThan(plannedAt);
      }
    }
    expect(contested, report.join('\n')).toBeGreaterThanOrEqual(6);
    // The hostile's kicks filled the sampler's voices and it lost voices of its own for it (the
    // player sounding the most gives way), counted in its row; the honest player lost none.
    const overbooked = async (name: string) => {
      const refused = memberRow(daw, name).getByTestId('member-refused');
      return (await refused.count()) === 0 ? 0 : Number(await refused.getAttribute('data-overbooked'));
    };
    await expect.poll(() => overbooked('Hostile'), WAIT).toBeGreaterThan(0);
    expect(await overbooked('Honest')).toBe(0);
  }, 60_000);
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * How many of the hostile's kick hits, arrived before honest hit `i`, were planned to start after
 * the honest hit was due (its planned time, or the audio clock when it was played at once).
 */
function kickPlannedAfter(hits: RecordedHits, hostile: number[], i: number): number {
  const arrived = hits.arrivedAt[i] as number;
  const planned = hits.plannedAt[i] as number;
  const due = Number.isNaN(planned) ? (hits.clockAt[i] as number) : planned;
  return hostile.filter(
    (k) => hits.pad[k] === 0 && (hits.arrivedAt[k] as number) < arrived && (hits.audioAt[k] as number) > due,
  ).length;
}

function describeHit(hits: RecordedHits, i: number, planned: number): string {
  const f = (value: number | undefined) => (value === undefined ? '?' : value.toFixed(2));
  return `honest seq ${hits.seq[i]}: planned ${f(hits.plannedAt[i])} clock ${f(hits.clockAt[i])} audio ${f(hits.audioAt[i])} late ${hits.late[i]}; hostile kicks planned after it ${planned}`;
}
