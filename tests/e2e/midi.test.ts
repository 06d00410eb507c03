/**
 * Web MIDI on the DAW page, in real headless Chromium with the real app, server, WebRTC and
 * engine. There is no MIDI device or MIDI system on these machines, so the ports are a Web MIDI
 * stand-in installed in the DAW page before it loads (tests/helpers/web-midi.ts: the ONE mock
 * here, in place of the browser's `requestMIDIAccess`). Checked: each hit's exact bytes, channel
 * and timestamps, instant and steady; note-offs (a player leaving mid-note, the output switched,
 * the page going away); clock messages; MIDI in playing pads as this computer; unplugging and
 * plugging; the port remembered by name; and, in the real browser with no stand-in, a denied
 * permission and a browser without Web MIDI, with the jam going on.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { LAPTOP } from '../helpers/browser.ts';
import { hitLog, type Jam, memberRow, padPoint, recordedHits, touch, WAIT } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';
import { type MidiSent, type MidiStandIn, SENT_KEY, WITHOUT_WEB_MIDI, webMidiStandIn } from '../helpers/web-midi.ts';

const OUT = 'padmesh test out';
const OTHER_OUT = 'another out';
const IN = 'padmesh test pads';

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

/**
 * A DAW page with the stand-in's ports (or `init` instead; null: the browser's own Web MIDI);
 * every message sent collected here, across navigations.
 */
async function openDaw(
  init: string | null = webMidiStandIn({ outputs: [OUT, OTHER_OUT], inputs: [IN] }),
): Promise<{ daw: Page; code: string; sent: MidiSent[] }> {
  await jam.startServer();
  const daw = await jam.page(LAPTOP, init ?? undefined);
  const sent: MidiSent[] = [];
  await daw.exposeFunction('__midiReport', (entry: MidiSent) => {
    sent.push(entry);
  });
  await daw.goto(`${jam.base}/daw?record=1000`);
  const code = await jam.dawReady(daw);
  return { daw, code, sent };
}

const midiState = (daw: Page, state: string) => daw.locator(`[data-testid=midi][data-state=${state}]`).waitFor(WAIT);

async function useMidi(daw: Page, output: string | null, input: string | null = null): Promise<void> {
  await daw.getByTestId('midi-enable').click();
  await midiState(daw, 'ready');
  if (output !== null) await daw.getByTestId('midi-output').selectOption(output);
  if (input !== null) await daw.getByTestId('midi-input').selectOption(input);
}

/** Waits (bounded) until `count` messages matching `match` were sent; returns them. */
async function waitForSent(sent: MidiSent[], count: number, match: (m: MidiSent) => boolean = () => true) {
  await expect.poll(() => sent.filter(match).length, WAIT).toBeGreaterThanOrEqual(count);
  return sent.filter(match);
}

const notes = (m: MidiSent) => m.data.length === 3 && ((m.data[0] as number) & 0xe0) === 0x80;
/** The stand-in's input receives these bytes: a controller played. */
const receive = (daw: Page, bytes: number[]) =>
  daw.evaluate(([name, data]) => window.__midi.receive(name, data), [IN, bytes] as const);
const unplug = (daw: Page, name: string) => daw.evaluate((port) => window.__midi.unplug(port), name);
const plug = (daw: Page, name: string) => daw.evaluate((port) => window.__midi.plug(port), name);
declare global {
  interface Window {
    __midi: MidiStandIn;
  }
}

async function tap(phone: Page, pad: number): Promise<void> {
  await touch(phone, [await padPoint(phone, pad)]);
}

const timeOrigin = (page: Page) => page.evaluate(() => performance.timeOrigin);

describe('MIDI out', () => {
  it('sends each hit as note-on and note-off: exact bytes, channels and times, instant and steady', async () => {
    const { daw, code, sent } = await openDaw();
    const drummer = await jam.joinPhone(code, 'Drummer');
    const bassist = await jam.joinPhone(code, 'Bassist');
    await memberRow(daw, 'Bassist').getByTestId('member-instrument').selectOption('bass');
    await bassist.waitForFunction(() => document.querySelector('[data-pad="12"]')?.textContent === 'C1', null, WAIT);
    await useMidi(daw, OUT);
    const origin = await timeOrigin(daw);

    // Instant: the drummer's snare on channel 10, now; its note-off 100 ms (the default) later.
    await tap(drummer, 1);
    const [on, off] = await waitForSent(sent, 2, notes);
    // The hit list is redrawn a few times a second, not with each hit.
    await expect.poll(async () => (await hitLog(daw)).length, WAIT).toBe(1);
    const [logged] = await hitLog(daw);
    expect(on?.data).toEqual([0x99, 38, logged?.velocity]);
    expect(off?.data).toEqual([0x89, 38, 0x40]);
    expect(on?.port).toBe(OUT);
    const recorded = await recordedHits(daw);
    expect(recorded.playAt[0]).toBeNaN();
    // Sent for now: stamped when the hit was handled, after it arrived and no later than the send.
    expect(on?.timestamp).toBeGreaterThanOrEqual((recorded.arrivedAt[0] as number) - origin - 0.001);
    expect(on?.timestamp).toBeLessThanOrEqual(on?.calledAt as number);
    expect((off?.timestamp as number) - (on?.timestamp as number)).toBeCloseTo(100, 6);

    // A melodic player: their pad's note (C1 = 24) on their own channel (the second player: 2).
    await tap(bassist, 12);
    const [bassOn, bassOff] = (await waitForSent(sent, 4, notes)).slice(2);
    expect(bassOn?.data.slice(0, 2)).toEqual([0x91, 24]);
    expect(bassOff?.data).toEqual([0x81, 24, 0x40]);

    // Per player: the drummer gets a channel of their own too; everyone on one channel.
    await daw.getByTestId('midi-channels').selectOption('per-player');
    await tap(drummer, 0);
    expect((await waitForSent(sent, 6, notes))[4]?.data.slice(0, 2)).toEqual([0x90, 36]);
    await daw.getByTestId('midi-channels').selectOption('one');
    await daw.getByTestId('midi-channel').selectOption({ value: '4' }); // channel 5
    await tap(bassist, 12);
    expect((await waitForSent(sent, 8, notes))[6]?.data.slice(0, 2)).toEqual([0x94, 24]);
    await daw.getByTestId('midi-channels').selectOption('drums-on-10');

    // Steady: at the planned time, on the performance clock; note length as set.
    await daw.getByTestId('midi-gate').fill('40');
    await daw.getByTestId('midi-gate').press('Enter');
    await daw.getByTestId('mode-steady').click();
    await drummer.locator('[data-testid=timing-badge][data-mode=steady]').waitFor(WAIT);
    // The first taps may come before the clock estimate steady mode needs: those play at once (bounded).
    let planned = Number.NaN;
    for (let attempt = 0; attempt < 10 && Number.isNaN(planned); attempt++) {
      const before = (await recordedHits(daw)).count;
      await tap(drummer, 4);
      await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(before + 1);
      planned = (await recordedHits(daw)).playAt[before] as number;
    }
    expect(planned).not.toBeNaN();
    const steady = sent.filter(notes).slice(-2);
    expect(steady[0]?.data.slice(0, 2)).toEqual([0x99, 42]);
    expect(steady[0]?.timestamp).toBeCloseTo(planned - origin, 3);
    expect(steady[1]?.data).toEqual([0x89, 42, 0x40]);
    expect(steady[1]?.timestamp).toBeCloseTo(planned - origin + 40, 3);
  });

  it('never leaves a note hanging: a player leaving mid-note, the output switched, the page going away', async () => {
    const { daw, code, sent } = await openDaw();
    const drummer = await jam.joinPhone(code, 'Leaver');
    await useMidi(daw, OUT);
    await daw.getByTestId('midi-gate').fill('4000');
    await daw.getByTestId('midi-gate').press('Enter');

    // The player leaves (their page closed) while the note sounds: its note-off went with its note-on, 4 s on.
    await tap(drummer, 0);
    const [on, off] = await waitForSent(sent, 2, notes);
    await drummer.close();
    await daw.locator('[data-testid=member][data-state=away]', { hasText: 'Leaver' }).waitFor(WAIT);
    expect(on?.data).toEqual([0x99, 36, expect.any(Number)]);
    expect(off?.data).toEqual([0x89, 36, 0x40]);
    expect((off?.timestamp as number) - (on?.timestamp as number)).toBeCloseTo(4000, 6);

    // The output switched mid-note: the old one gets the note-off at once (its queued one may never go).
    await daw.locator('[data-testid=daw-pad][data-pad="2"]').click();
    await waitForSent(sent, 1, (m) => m.data[0] === 0x99 && m.data[1] === 39);
    await daw.getByTestId('midi-output').selectOption(OTHER_OUT);
    const ended = await waitForSent(sent, 1, (m) => m.port === OUT && m.data[0] === 0x89 && m.timestamp === null);
    expect(ended.map((m) => m.data[1])).toContain(39);

    // The page goes away mid-note: the note-off goes at once, before it is gone.
    await daw.locator('[data-testid=daw-pad][data-pad="3"]').click();
    await waitForSent(sent, 1, (m) => m.port === OTHER_OUT && m.data[0] === 0x99 && m.data[1] === 37);
    await daw.goto(`${jam.base}/`); // the start page: same origin, so the stand-in's log of the DAW page is there
    const kept = await daw.evaluate((key) => JSON.parse(sessionStorage.getItem(key) ?? '[]') as MidiSent[], SENT_KEY);
    const lastOn = kept.findLastIndex((m) => m.data[0] === 0x99 && m.data[1] === 37);
    expect(lastOn).toBeGreaterThanOrEqual(0);
    // After its note-on (and queued note-off), a note-off at once: sent as the page went.
    expect(kept.slice(lastOn + 2)).toContainEqual(
      expect.objectContaining({ port: OTHER_OUT, data: [0x89, 37, 0x40], timestamp: null }),
    );
  });

  it('sends MIDI clock from the tempo: Start on the beat, 24 ticks a beat, a new tempo, Stop', async () => {
    const { daw, sent } = await openDaw();
    await useMidi(daw, OUT);
    await daw.getByTestId('midi-clock').check();
    expect(sent).toEqual([]); // no beat yet: nothing
    await daw.getByTestId('beat-toggle').click();
    const [start] = await waitForSent(sent, 1, (m) => m.data[0] === 0xfa);
    const ticks = (n: number) => waitForSent(sent, n, (m) => m.data[0] === 0xf8);
    const first = await ticks(48);
    expect(first[0]?.timestamp).toBeCloseTo(start?.timestamp as number, 6); // the first tick on the Start
    for (let k = 1; k < 48; k++)
      expect((first[k]?.timestamp as number) - (first[k - 1]?.timestamp as number)).toBeCloseTo(500 / 24, 6);

    await daw.getByTestId('bpm').fill('90');
    await daw.getByTestId('bpm').press('Enter');
    await daw.locator('[data-testid=beat-light][title="90 BPM"]').waitFor(WAIT);
    const handed = (await ticks(1)).length;
    const later = (await ticks(handed + 30)).slice(-20);
    for (let k = 1; k < later.length; k++)
      expect((later[k]?.timestamp as number) - (later[k - 1]?.timestamp as number)).toBeCloseTo(60_000 / 90 / 24, 6);

    await daw.getByTestId('beat-toggle').click();
    await waitForSent(sent, 1, (m) => m.data[0] === 0xfc);
    expect(sent.filter((m) => m.data[0] === 0xfa)).toHaveLength(1);
  });
});

describe('MIDI in', () => {
  it("plays the DAW's pads through the chosen kit's drum map, as this computer, without echoing them out", async () => {
    const { daw, sent } = await openDaw();
    await useMidi(daw, OUT, IN);
    await receive(daw, [0x99, 38, 100]); // snare, channel 10
    await daw.locator('[data-testid=daw-pad][data-pad="1"][data-hits="1"]').waitFor(WAIT);
    await receive(daw, [0x90, 40, 50]); // electric snare, channel 1
    await daw.locator('[data-testid=daw-pad][data-pad="1"][data-hits="2"]').waitFor(WAIT);
    await expect.poll(async () => (await hitLog(daw)).length, WAIT).toBe(2);
    const log = await hitLog(daw);
    expect(log.map(({ peer, pad, velocity, via }) => ({ peer, pad, velocity, via }))).toEqual([
      { peer: '', pad: 1, velocity: 100, via: 'local' },
      { peer: '', pad: 1, velocity: 50, via: 'local' },
    ]);
    expect(await daw.getByTestId('hit').first().locator('.name').textContent()).toBe('this computer');
    // Not a pad's note, and a note-on of velocity 0 (a note-off): nothing played.
    await receive(daw, [0x99, 20, 100]);
    await receive(daw, [0x99, 36, 0]);
    await daw.locator('[data-testid=midi-in-count][data-ignored="1"][data-heard="2"]').waitFor(WAIT);
    expect(await daw.locator('[data-testid=daw-pad][data-pad="0"]').getAttribute('data-hits')).toBe('0');
    // Hits from MIDI in were not sent out (a loop through a virtual port); a click on a pad is.
    expect(sent).toEqual([]);
    await daw.locator('[data-testid=daw-pad][data-pad="0"]').click();
    expect((await waitForSent(sent, 2, notes)).map((m) => m.data.slice(0, 2))).toEqual([
      [0x99, 36],
      [0x89, 36],
    ]);

    // Another built-in kit: its pads' own GM notes, out and in (the acoustic kit's pad 6 is a pedal hat: 44).
    await daw.getByTestId('built-in-kit').selectOption('acoustic');
    await daw.locator('[data-testid=daw-pad][data-pad="6"]').click();
    expect((await waitForSent(sent, 4, notes))[2]?.data.slice(0, 2)).toEqual([0x99, 44]);
    await receive(daw, [0x99, 44, 90]);
    await daw.locator('[data-testid=daw-pad][data-pad="6"][data-hits="2"]').waitFor(WAIT);
  });
});

describe('MIDI ports coming and going', () => {
  it('says so when the port is unplugged, plays here meanwhile, takes it back by name, also after a reload', async () => {
    const { daw, sent } = await openDaw();
    await useMidi(daw, OUT);
    await daw.getByTestId('midi-local-sound').uncheck();
    await daw.locator('[data-testid=midi-local-sound][data-playing=false]').waitFor(WAIT);

    await unplug(daw, OUT);
    await midiState(daw, 'unplugged');
    expect(await daw.getByTestId('midi-status').textContent()).toContain(`Not connected: ${OUT}`);
    await daw.locator('[data-testid=midi-local-sound][data-playing=true]').waitFor(WAIT); // sound here again
    const triggered = Number(await daw.getByTestId('engine').getAttribute('data-triggered'));
    await daw.locator('[data-testid=daw-pad][data-pad="0"]').click();
    await daw.locator(`[data-testid=engine][data-triggered="${triggered + 1}"]`).waitFor(WAIT);
    expect(sent).toEqual([]);

    await plug(daw, OUT);
    await midiState(daw, 'ready');
    await daw.locator('[data-testid=midi-local-sound][data-playing=false]').waitFor(WAIT);
    await daw.locator('[data-testid=daw-pad][data-pad="0"]').click();
    await waitForSent(sent, 2, notes);

    // A reload: the stand-in's ports get new ids; the output is found again by its name.
    await daw.reload();
    await jam.dawReady(daw);
    await midiState(daw, 'ready');
    expect(await daw.getByTestId('midi-output').inputValue()).toBe(OUT);
    await daw.locator('[data-testid=daw-pad][data-pad="1"]').click();
    expect((await waitForSent(sent, 4, notes))[2]?.data.slice(0, 2)).toEqual([0x99, 38]);
  });

  it('says when there are no ports at all', async () => {
    const { daw } = await openDaw(webMidiStandIn({}));
    await daw.getByTestId('midi-enable').click();
    await midiState(daw, 'no-ports');
    expect(await daw.getByTestId('midi-status').textContent()).toContain('No MIDI ports');
  });

  it('says the browser refused MIDI (the real browser, no permission given) and the jam plays on', async () => {
    const { daw, code } = await openDaw(null);
    await daw.getByTestId('midi-enable').click();
    await midiState(daw, 'denied');
    expect(await daw.getByTestId('midi-status').textContent()).toContain('refused MIDI');
    const phone = await jam.joinPhone(code, 'Pia');
    await tap(phone, 0);
    await daw.locator('[data-testid=engine][data-triggered="1"]').waitFor(WAIT);
  });

  it('says the browser has no Web MIDI, and the jam plays on', async () => {
    const { daw, code } = await openDaw(WITHOUT_WEB_MIDI);
    await midiState(daw, 'unsupported');
    expect(await daw.getByTestId('midi-status').textContent()).toContain('no Web MIDI');
    expect(await daw.getByTestId('midi-enable').count()).toBe(0);
    const phone = await jam.joinPhone(code, 'Pia');
    await tap(phone, 0);
    await daw.locator('[data-testid=engine][data-triggered="1"]').waitFor(WAIT);
  });
});
