/**
 * Firefox in a jam: Debian's Firefox ESR (driven over WebDriver BiDi by puppeteer-core:
 * tests/helpers/firefox.ts) as a phone beside a Chromium DAW, and as the DAW beside a Chromium
 * and a Firefox phone. Each pairing plays every tap exactly once: counted on the wire at the
 * phone (tests/helpers/sent-hits.ts) and by the DAW's hit recorder (`/daw?record=N`).
 *
 * A Firefox DAW needs two things Chromium does not, both covered here:
 * - its built-in kit renders although Firefox lacks AudioParam.cancelAndHoldAtTime and
 *   OfflineAudioContext.suspend (client/audio/firefox-audio.ts);
 * - it never reads AudioContext.outputLatency: in Firefox that read can deadlock the page's main
 *   and audio threads for good (docs/troubleshooting.md, "A Firefox DAW froze"). The DAW pages
 *   here count every read (and getOutputTimestamp, which reads it inside Firefox) and expect none.
 *
 * Why two Firefox DAW tests: in a loopback-only namespace Firefox gathers ICE candidates only with
 * the microphone permission, and that permission also lets its AudioContext start without a
 * gesture. So the DAW whose sound is started by a real click on "Enable sound" (as for a person,
 * whose Firefox has no such permission) cannot link P2P here and its phones play through the
 * relay; the DAW with the permission links P2P, its sound running from the start. The click DAW's
 * contexts are held suspended by an init script until the click (SOUND_WAITS_FOR_A_CLICK).
 */
import type { Page as ChromiumPage } from 'playwright-core';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedHits } from '../../client/state/hit-recorder.ts';
import {
  autoplayPrefs,
  clickPad,
  type FirefoxPageLog,
  joinFirefoxPhone,
  launchFirefox,
  openFirefoxDaw,
  PulseAudio,
} from '../helpers/firefox.ts';
import { Jam, memberRow, padPoint, recordedHits, touch, WAIT, waitForP2p } from '../helpers/jam.ts';
import { distinctSentHits, RECORD_SENT_HITS, readSentRecords } from '../helpers/sent-hits.ts';

/** As jam.ts's withoutWebRtc, as a string (an init script for either browser). */
const WITHOUT_WEBRTC = `for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel']) {
  Object.defineProperty(window, name, { value: undefined, configurable: true });
}`;

/** Counts the DAW page's reads of what can deadlock Firefox (see the file's comment). */
const COUNT_LATENCY_READS = `{
  const reads = { outputLatency: 0, getOutputTimestamp: 0 };
  Object.defineProperty(window, '__latencyReads', { value: reads });
  const proto = AudioContext.prototype;
  const latency = Object.getOwnPropertyDescriptor(proto, 'outputLatency');
  if (latency && latency.get) {
    Object.defineProperty(proto, 'outputLatency', {
      configurable: true,
      get() { reads.outputLatency++; return latency.get.call(this); },
    });
  }
  const stamp = proto.getOutputTimestamp;
  if (stamp) proto.getOutputTimestamp = function () { reads.getOutputTimestamp++; return stamp.call(this); };
}`;

/**
 * The autoplay policy, kept by the page: each AudioContext is suspended as it is made, so only a
 * resume() (the Enable sound click's) starts it. This Firefox's own policy did not hold here: with
 * the prefs of autoplayPrefs(false), the DAW's context ran by itself in 3 of 4 runs of this test.
 */
const SOUND_WAITS_FOR_A_CLICK = `{
  const Native = window.AudioContext;
  window.AudioContext = class extends Native {
    constructor(options) {
      super(options);
      void this.suspend();
    }
  };
}`;

let jam: Jam;
let pulse: PulseAudio;
/** The Firefox phones' browser (with the microphone permission: loopback ICE candidates). */
let phones: Browser;
/** A Firefox DAW's browser, launched by its test and closed after it. */
let dawBrowser: Browser | null = null;
const log: FirefoxPageLog = { errors: [], consoleErrors: [] };
/**
 * Set by a test in which a link cannot form (a DAW without ICE candidates): Firefox then reports
 * each failed attempt as a page error, "WebRTC: ICE failed, add a TURN server…". Only that is let pass.
 */
let iceFailsHere = false;
const ICE_FAILED = /^WebRTC: ICE failed, add a TURN server/;

beforeAll(async () => {
  jam = await Jam.launch();
  pulse = await PulseAudio.start();
  phones = await launchFirefox();
});
afterAll(async () => {
  await phones?.close();
  await pulse?.stop();
  await jam?.close();
});
afterEach(async () => {
  const errors = [...jam.errors, ...log.errors.filter((error) => !(iceFailsHere && ICE_FAILED.test(error.message)))];
  iceFailsHere = false;
  for (const context of phones.browserContexts()) {
    if (context !== phones.defaultBrowserContext()) await context.close();
  }
  await dawBrowser?.close();
  dawBrowser = null;
  log.errors.length = 0;
  log.consoleErrors.length = 0;
  await jam.reset();
  expect(errors).toEqual([]);
});

/** The DAW's recorded hits as `peerId:seq`, and the peer ids it heard from. */
function playedKeys(recorded: RecordedHits): string[] {
  return recorded.seq.slice(0, recorded.count).map((seq, i) => `${recorded.peers[recorded.peer[i] as number]}:${seq}`);
}

/** What a phone put on the wire, as `peerId:seq` (its peer id as the DAW knows it). */
async function sentKeys(phone: Page | ChromiumPage, peerId: string): Promise<string[]> {
  const records = await (phone as Page).evaluate(readSentRecords);
  return [...distinctSentHits(records).keys()].map((key) => `${peerId}:${key.split(':')[1]}`);
}

const firefoxPeerId = async (daw: Page, name: string): Promise<string> => {
  await daw.waitForSelector(`[data-testid=member][data-role=controller][data-peer]::-p-text(${name})`);
  return daw.$$eval(
    '[data-testid=member][data-role=controller]',
    (rows, wanted) => (rows.find((row) => row.textContent?.includes(wanted)) as HTMLElement | undefined)?.dataset.peer,
    name,
  ) as Promise<string>;
};

const firefoxRecorded = (daw: Page): Promise<RecordedHits> =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { export(): RecordedHits } }).padmeshRecorder.export());

/**
 * Waits (bounded) for a Firefox page's selector. On a timeout the error says whether the page
 * still answers (a frozen page does not, within another bounded wait) and what its engine shows.
 */
async function waitIn(page: Page, selector: string): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout: WAIT.timeout });
  } catch (error) {
    const state = await Promise.race([
      page.evaluate(() => {
        const engine = document.querySelector<HTMLElement>('[data-testid=engine]');
        return `answers; engine ${JSON.stringify(engine ? { ...engine.dataset } : null)}`;
      }),
      new Promise<string>((resolve) => setTimeout(() => resolve('does not answer (frozen?)'), 15_000)),
    ]).catch((e: unknown) => `evaluate failed: ${String(e)}`);
    throw new Error(`${(error as Error).message}; the page ${state}`);
  }
}

describe('Firefox phones with a Chromium DAW', () => {
  it('a Firefox phone links P2P and each of its taps is played once', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=100');
    const phone = await joinFirefoxPhone(phones, jam.phoneBase, code, 'Fox', log, RECORD_SENT_HITS);
    await waitIn(phone, '[data-testid=transport][data-transport=p2p]');
    await expect.poll(() => memberRow(daw, 'Fox').getAttribute('data-transport'), WAIT).toBe('p2p');
    expect(await phone.evaluate(() => window.isSecureContext)).toBe(false);
    const peerId = (await memberRow(daw, 'Fox').getAttribute('data-peer')) ?? '';

    const pads = [0, 3, 7, 12];
    for (const pad of pads) await clickPad(phone, pad);
    await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(pads.length);
    const recorded = await recordedHits(daw);
    expect(recorded.pad.slice(0, recorded.count)).toEqual(pads);
    expect(recorded.via.slice(0, recorded.count)).toEqual(pads.map(() => 0)); // p2p
    expect(playedKeys(recorded).sort()).toEqual((await sentKeys(phone, peerId)).sort());
    await expect.poll(() => daw.getByTestId('engine').getAttribute('data-triggered'), WAIT).toBe(String(pads.length));
    expect(Number(await memberRow(daw, 'Fox').getByTestId('member-hits').textContent())).toBe(pads.length);
  });

  it('a Firefox phone without WebRTC plays through the relay, each tap once', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=100');
    const phone = await joinFirefoxPhone(phones, jam.phoneBase, code, 'Fox', log, WITHOUT_WEBRTC + RECORD_SENT_HITS);
    await waitIn(phone, '[data-testid=transport][data-transport=relay]');
    await expect.poll(() => memberRow(daw, 'Fox').getAttribute('data-transport'), WAIT).toBe('relay');
    const peerId = (await memberRow(daw, 'Fox').getAttribute('data-peer')) ?? '';

    const pads = [1, 5, 9];
    for (const pad of pads) await clickPad(phone, pad);
    await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(pads.length);
    const recorded = await recordedHits(daw);
    expect(recorded.pad.slice(0, recorded.count)).toEqual(pads);
    expect(recorded.via.slice(0, recorded.count)).toEqual(pads.map(() => 1)); // relay
    expect(playedKeys(recorded).sort()).toEqual((await sentKeys(phone, peerId)).sort());
    await expect.poll(() => daw.getByTestId('engine').getAttribute('data-triggered'), WAIT).toBe(String(pads.length));
  });
});

describe('a Firefox DAW', () => {
  /** Taps from a Chromium phone and a Firefox phone; checks each was played exactly once. */
  async function eachTapOnce(daw: Page, chromiumPhone: ChromiumPage, firefoxPhone: Page, via: number): Promise<void> {
    const chromiumId = await firefoxPeerId(daw, 'Chro');
    const firefoxId = await firefoxPeerId(daw, 'Fox');
    for (const pad of [0, 4]) await touch(chromiumPhone, [await padPoint(chromiumPhone, pad)]);
    for (const pad of [2, 8, 13]) await clickPad(firefoxPhone, pad);
    await expect.poll(async () => (await firefoxRecorded(daw)).count, WAIT).toBe(5);
    const recorded = await firefoxRecorded(daw);
    expect(recorded.via.slice(0, recorded.count)).toEqual([via, via, via, via, via]);
    const sent = [...(await sentKeys(chromiumPhone, chromiumId)), ...(await sentKeys(firefoxPhone, firefoxId))];
    expect(sent).toHaveLength(5);
    expect(playedKeys(recorded).sort()).toEqual(sent.sort());
    await waitIn(daw, '[data-testid=engine][data-triggered="5"]');
    // The rendered kit made sound (the meter reads the output, behind the clipper).
    const maxDb = await daw.$eval('[data-testid=level]', (level) => Number(level.getAttribute('data-max-db')));
    expect(maxDb).toBeGreaterThan(-40);
    // The page never asked Firefox for what can deadlock it, and it still answers.
    expect(await daw.evaluate(() => (window as unknown as { __latencyReads: unknown }).__latencyReads)).toEqual({
      outputLatency: 0,
      getOutputTimestamp: 0,
    });
    expect(await daw.$eval('[data-testid=output-latency]', (e) => e.textContent)).toBe('output latency unknown');
  }

  it('starts its sound on a real click on Enable sound and plays a Chromium and a Firefox phone, each tap once', async () => {
    // As a person's Firefox: no microphone permission (so no autoplay, and no loopback ICE
    // candidates here: the phones play through the relay) and sound only after a click.
    dawBrowser = await launchFirefox({
      pulse,
      prefs: { 'permissions.default.microphone': 2, ...autoplayPrefs(false) },
    });
    iceFailsHere = true;
    await jam.startServer();
    // The counter first: it wraps the native prototype, which the suspending subclass inherits.
    const init = COUNT_LATENCY_READS + SOUND_WAITS_FOR_A_CLICK;
    const { daw, code } = await openFirefoxDaw(dawBrowser, jam.base, '?record=100', log, init);
    // Nothing has started the sound: the button is there, the context suspended.
    await waitIn(daw, '[data-testid=engine][data-state=suspended] [data-testid=enable-sound]');
    await daw.locator('[data-testid=enable-sound]').click();
    await waitIn(daw, '[data-testid=engine][data-state=running]');
    await waitIn(daw, '[data-testid=engine][data-kit=ready]');

    const chromiumPhone = await jam.joinPhone(code, 'Chro', RECORD_SENT_HITS);
    const firefoxPhone = await joinFirefoxPhone(phones, jam.phoneBase, code, 'Fox', log, RECORD_SENT_HITS);
    await chromiumPhone.locator('[data-testid=transport][data-transport=relay]').waitFor(WAIT);
    await waitIn(firefoxPhone, '[data-testid=transport][data-transport=relay]');
    await eachTapOnce(daw, chromiumPhone, firefoxPhone, 1);
  });

  it('links a Chromium and a Firefox phone P2P and plays each tap once', async () => {
    // The microphone permission (loopback ICE candidates) also lets the sound start by itself.
    dawBrowser = await launchFirefox({ pulse, prefs: autoplayPrefs(true) });
    await jam.startServer();
    const { daw, code } = await openFirefoxDaw(dawBrowser, jam.base, '?record=100', log, COUNT_LATENCY_READS);
    await waitIn(daw, '[data-testid=engine][data-state=running]');
    await waitIn(daw, '[data-testid=engine][data-kit=ready]');

    const chromiumPhone = await jam.joinPhone(code, 'Chro', RECORD_SENT_HITS);
    const firefoxPhone = await joinFirefoxPhone(phones, jam.phoneBase, code, 'Fox', log, RECORD_SENT_HITS);
    await waitForP2p(chromiumPhone);
    await waitIn(firefoxPhone, '[data-testid=transport][data-transport=p2p]');
    await waitIn(daw, '[data-testid=member][data-transport=p2p]::-p-text(Chro)');
    await waitIn(daw, '[data-testid=member][data-transport=p2p]::-p-text(Fox)');
    await eachTapOnce(daw, chromiumPhone, firefoxPhone, 0);
  });
});
