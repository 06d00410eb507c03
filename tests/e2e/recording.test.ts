/**
 * Recording a jam (issue 11, item 4) in real headless Chromium over real WebRTC: two phones and
 * the DAW's own pads play while the DAW records; Stop gives a Standard MIDI File (parsed back here
 * with @tonejs/midi: a track per player, their notes and velocities, each at its tap time on the
 * DAW's clock) and a WAV of what the engine played (its header parsed here, its sound looked at).
 * A reload of the DAW tab mid-take keeps what was recorded; a browser without IndexedDB records
 * in memory and says so; a full quota stops the take with a message, and the jam goes on.
 *
 * Times are compared with what the DAW itself recorded as each hit's tap time (`/daw?record=N`,
 * state/hit-recorder.ts), so no judgement here rests on how fast this machine is. Runs only in a
 * loopback-only network namespace (see tests/helpers/jam.ts).
 */
import { readFile } from 'node:fs/promises';
import * as tonejsMidi from '@tonejs/midi';
import type { Download, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { JUMP_MS } from '../../client/audio/audio-clock.ts';
import { KEY_VELOCITY } from '../../client/input/keys.ts';
import { LAPTOP } from '../helpers/browser.ts';
import { hitLog, type Jam, memberRow, peerIdOf, recordedHits, tapRhythm, WAIT, waitForP2p } from '../helpers/jam.ts';
import { withQuotaLimitedDaw } from '../helpers/quota-daw.ts';
import { useJam } from '../helpers/use-jam.ts';

// Node loads @tonejs/midi's UMD build: its exports are under `default`.
const { Midi } = (tonejsMidi as unknown as { default: typeof tonejsMidi }).default;

/** How far a note may be from its tap: the bound (a tick at 100 bpm is 0.06 ms). */
const TAP_TOLERANCE_MS = 2;

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

const controls = (daw: Page) => daw.getByTestId('record-controls');
const dawPad = (daw: Page, pad: number) => daw.locator(`[data-testid=daw-pad][data-pad="${pad}"]`);
const triggered = async (daw: Page) => Number(await daw.getByTestId('engine').getAttribute('data-triggered'));

async function startRecording(daw: Page): Promise<void> {
  await daw.getByTestId('record').click();
  await daw.locator('[data-testid=record-controls][data-state=recording]').waitFor(WAIT);
}

async function stopRecording(daw: Page): Promise<void> {
  await daw.getByTestId('record').click();
  await daw.locator('[data-testid=record-controls][data-state=stopped]').waitFor(WAIT);
}

async function downloaded(daw: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([daw.waitForEvent('download', WAIT), daw.getByTestId(button).click()])) as [
    Download,
    unknown,
  ];
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: await readFile(path) };
}

async function downloadMidi(daw: Page) {
  const { name, bytes } = await downloaded(daw, 'record-midi');
  expect(name).toMatch(/^padmesh-\d{4}-\d\d-\d\d-\d{4}\.mid$/);
  return new Midi(bytes);
}

interface Wav {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
  frames: number;
  /** Channel 0, −1..1. */
  left: Float32Array;
}

/** A WAV read here with nothing of the app's: its RIFF chunks walked, its 16-bit samples decoded. */
function parseWav(bytes: Buffer): Wav {
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
  expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
  let at = 12;
  let fmt: Omit<Wav, 'frames' | 'left'> | null = null;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      fmt = {
        format: bytes.readUInt16LE(at + 8),
        channels: bytes.readUInt16LE(at + 10),
        sampleRate: bytes.readUInt32LE(at + 12),
        bits: bytes.readUInt16LE(at + 22),
      };
      expect(bytes.readUInt32LE(at + 16)).toBe((fmt.sampleRate * fmt.channels * fmt.bits) / 8); // byte rate
      expect(bytes.readUInt16LE(at + 20)).toBe((fmt.channels * fmt.bits) / 8); // block align
    }
    if (id === 'data') {
      if (!fmt) throw new Error('data before fmt');
      expect(at + 8 + size).toBe(bytes.length);
      const frames = size / fmt.channels / 2;
      const left = new Float32Array(frames);
      for (let i = 0; i < frames; i++) left[i] = bytes.readInt16LE(at + 8 + i * fmt.channels * 2) / 32768;
      return { ...fmt, frames, left };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

const peak = (samples: Float32Array) => samples.reduce((top, s) => Math.max(top, Math.abs(s)), 0);
const firstSound = (samples: Float32Array, threshold: number) => samples.findIndex((s) => Math.abs(s) > threshold);

const numberAttribute = async (page: Page, testId: string, name: string) =>
  Number(await page.getByTestId(testId).getAttribute(name));

describe('recording', () => {
  it('records two phones and the DAW: a track per player at the taps’ times, the tempo, and a WAV of the sound', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=1000');
    const ana = await jam.joinPhone(code, 'Ana');
    const ben = await jam.joinPhone(code, 'Ben');
    await waitForP2p(ana);
    await waitForP2p(ben);
    // Clock sync has an estimate for both: their hits carry tap times on the DAW's clock.
    await memberRow(daw, 'Ana').getByTestId('member-offset').waitFor(WAIT);
    await memberRow(daw, 'Ben').getByTestId('member-offset').waitFor(WAIT);
    // Ben plays the bass: C minor pentatonic from C1, bottom left.
    await memberRow(daw, 'Ben').getByTestId('member-instrument').selectOption('bass');
    await ben.waitForFunction(
      () => document.querySelector('[data-testid=pad][data-pad="12"]')?.textContent === 'C1',
      null,
      WAIT,
    );
    // The beat runs at 100 bpm, the click off (the WAV then holds only the players' sound).
    await daw.getByTestId('bpm').fill('100');
    await daw.getByTestId('bpm').blur();
    await daw.getByTestId('beat-toggle').click();
    await daw.locator('[data-testid=beat-toggle][aria-pressed=true]').waitFor(WAIT);

    await startRecording(daw);
    await Promise.all([
      tapRhythm(ana, { pad: 0, count: 8, intervalMs: 150 }),
      tapRhythm(ben, { pad: 12, count: 6, intervalMs: 200 }),
    ]);
    await dawPad(daw, 1).dispatchEvent('pointerdown');
    await dawPad(daw, 1).dispatchEvent('pointerdown');
    await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(14);
    await expect.poll(async () => (await hitLog(daw)).length, WAIT).toBe(16);
    await stopRecording(daw);

    const taps = await recordedHits(daw);
    const log = await hitLog(daw);
    const anaId = await peerIdOf(daw, 'Ana');
    const benId = await peerIdOf(daw, 'Ben');
    const tapsOf = (peerId: string) =>
      taps.tapAt.filter((_, i) => taps.peers[taps.peer[i] as number] === peerId).sort((a, b) => a - b);
    const velocitiesOf = (peerId: string) => log.filter((hit) => hit.peer === peerId).map((hit) => hit.velocity);
    for (const tapAt of taps.tapAt) expect(Number.isNaN(tapAt)).toBe(false);

    const take = daw.getByTestId('take');
    expect(await take.getAttribute('data-hits')).toBe('16');
    expect(await take.getAttribute('data-unfinished')).toBe('false');
    const origin = await numberAttribute(daw, 'take', 'data-origin-ms');
    const startedAt = await numberAttribute(daw, 'take', 'data-started-ms');
    const stoppedAt = await numberAttribute(daw, 'take', 'data-stopped-ms');
    // Time 0 is the bar line before the start: 4 beats of 600 ms at 100 bpm.
    expect(origin).toBeLessThanOrEqual(startedAt);
    expect(startedAt - origin).toBeLessThan(2400);

    const midi = await downloadMidi(daw);
    expect(midi.header.tempos.map((tempo) => tempo.bpm)).toEqual([100]);
    expect(midi.header.timeSignatures[0]?.timeSignature).toEqual([4, 4]);
    const tracks = new Map(midi.tracks.map((track) => [track.name, track]));
    expect([...tracks.keys()].sort()).toEqual(['Ana', 'Ben', 'This computer']);
    const anaTrack = tracks.get('Ana');
    const benTrack = tracks.get('Ben');
    const dawTrack = tracks.get('This computer');
    if (!anaTrack || !benTrack || !dawTrack) throw new Error('a track is missing');
    // Drums on channel 10 as GM notes: the kick is 36, the snare 38.
    expect(anaTrack.channel).toBe(9);
    expect(anaTrack.notes.map((note) => note.midi)).toEqual(Array(8).fill(36));
    expect(dawTrack.channel).toBe(9);
    expect(dawTrack.notes.map((note) => note.midi)).toEqual([38, 38]);
    expect(dawTrack.notes.map((note) => Math.round(note.velocity * 127))).toEqual([KEY_VELOCITY, KEY_VELOCITY]);
    // The bass on a channel of its own, as its notes (C1 = 24), with a bass's GM program.
    expect(benTrack.channel).not.toBe(9);
    expect(benTrack.instrument.number).toBe(33);
    expect(benTrack.notes.map((note) => note.midi)).toEqual(Array(6).fill(24));
    for (const [track, peerId] of [
      [anaTrack, anaId],
      [benTrack, benId],
    ] as const) {
      expect(track.notes.map((note) => Math.round(note.velocity * 127))).toEqual(velocitiesOf(peerId));
      const tapTimes = tapsOf(peerId);
      expect(track.notes).toHaveLength(tapTimes.length);
      track.notes.forEach((note, i) => {
        expect(Math.abs(origin + note.time * 1000 - (tapTimes[i] as number))).toBeLessThanOrEqual(TAP_TOLERANCE_MS);
      });
    }

    // Quantised: every note on a sixteenth (240 ticks at 960 per beat), the nearest one to its tap.
    await daw.getByTestId('record-quantise').check();
    const quantised = await downloadMidi(daw);
    const sixteenth = quantised.header.ppq / 4;
    for (const track of quantised.tracks) {
      const played = tracks.get(track.name)?.notes ?? [];
      track.notes.forEach((note, i) => {
        expect(note.ticks % sixteenth).toBe(0);
        expect(Math.abs(note.ticks - (played[i]?.ticks ?? Number.NaN))).toBeLessThanOrEqual(sixteenth / 2);
      });
    }

    const { name, bytes } = await downloaded(daw, 'record-wav');
    expect(name).toMatch(/^padmesh-.*\.wav$/);
    const wav = parseWav(bytes);
    expect({ format: wav.format, channels: wav.channels, bits: wav.bits }).toEqual({
      format: 1,
      channels: 2,
      bits: 16,
    });
    expect([44_100, 48_000]).toContain(wav.sampleRate);
    // From time 0 (the bar line) to Stop, to the frame (two roundings).
    expect(Math.abs(wav.frames - ((stoppedAt - origin) / 1000) * wav.sampleRate)).toBeLessThanOrEqual(2);
    // Sound; the lead from time 0 (the bar line) to Record is digital silence; and no sound long
    // before the first hit arrived (the click is off). How long: the WAV's clock is the audio
    // thread's, mapped to the DAW's by the edge of its render bursts (audio/audio-clock.ts), which
    // may run up to JUMP_MS ahead of where the audio thread is before the mapping jumps, and the
    // audio thread renders at most the output latency the browser reports ahead of its output.
    // Load only makes sound later. (How close it comes on a quiet machine: a few ms.)
    expect(peak(wav.left)).toBeGreaterThan(0.05);
    const leadFrames = Math.round(((startedAt - origin) / 1000) * wav.sampleRate);
    expect(peak(wav.left.subarray(0, leadFrames))).toBe(0);
    const firstArrival = Math.min(...taps.arrivedAt);
    const onset = firstSound(wav.left, 0.01);
    expect(onset).toBeGreaterThan(0);
    const onsetAt = origin + (onset / wav.sampleRate) * 1000;
    console.log(
      `recording: first sound ${(onsetAt - firstArrival).toFixed(2)} ms after the first arrival, ` +
        `${(onsetAt - Math.min(...taps.tapAt)).toFixed(2)} ms after the first tap`,
    );
    const outputLatency = Number(/(\d+) ms/.exec((await daw.getByTestId('output-latency').textContent()) ?? '')?.[1]);
    expect(outputLatency).toBeGreaterThan(0);
    expect(onsetAt).toBeGreaterThanOrEqual(firstArrival - JUMP_MS - outputLatency);
  });

  it('keeps what was recorded across a reload of the DAW tab, and offers it', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=100');
    const ana = await jam.joinPhone(code, 'Ana');
    await waitForP2p(ana);
    await memberRow(daw, 'Ana').getByTestId('member-offset').waitFor(WAIT);
    await startRecording(daw);
    await tapRhythm(ana, { pad: 2, count: 5, intervalMs: 120 });
    await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(5);
    await expect.poll(async () => (await hitLog(daw)).length, WAIT).toBe(5);
    const taps = (await recordedHits(daw)).tapAt;
    const velocities = (await hitLog(daw)).map((hit) => hit.velocity);
    // Kept as they come: wait for the hits and some sound to be stored, then reload mid-take.
    await expect.poll(async () => Number(await controls(daw).getAttribute('data-saved-hits')), WAIT).toBe(5);
    await expect
      .poll(async () => Number(await controls(daw).getAttribute('data-saved-frames')), WAIT)
      .toBeGreaterThan(0);
    const savedFrames = Number(await controls(daw).getAttribute('data-saved-frames'));
    await daw.reload();
    await jam.dawReady(daw);

    const take = daw.getByTestId('take');
    await take.waitFor(WAIT);
    expect(await take.getAttribute('data-unfinished')).toBe('true');
    expect(await take.getAttribute('data-hits')).toBe('5');
    const origin = await numberAttribute(daw, 'take', 'data-origin-ms');
    const midi = await downloadMidi(daw);
    expect(midi.tracks.map((track) => track.name)).toEqual(['Ana']);
    const notes = midi.tracks[0]?.notes ?? [];
    expect(notes.map((note) => note.midi)).toEqual(Array(5).fill(39)); // the clap
    expect(notes.map((note) => Math.round(note.velocity * 127))).toEqual(velocities);
    notes.forEach((note, i) => {
      expect(Math.abs(origin + note.time * 1000 - (taps[i] as number))).toBeLessThanOrEqual(TAP_TOLERANCE_MS);
    });
    const wav = parseWav((await downloaded(daw, 'record-wav')).bytes);
    expect(wav.frames).toBeGreaterThanOrEqual(savedFrames);
    expect(peak(wav.left)).toBeGreaterThan(0.05);

    // Discarded, it is gone across another reload; the jam plays on meanwhile.
    await daw.getByTestId('record-discard').click();
    await take.waitFor({ ...WAIT, state: 'detached' });
    await daw.reload();
    await jam.dawReady(daw);
    await daw.locator('[data-testid=record-controls][data-store=disk]').waitFor(WAIT);
    expect(await take.count()).toBe(0);
  });

  it('without IndexedDB (missing, or refusing to open): records in memory, says so, and the jam goes on', async () => {
    await jam.startServer();
    const variants = [
      `Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });`,
      `IDBFactory.prototype.open = function () { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); };`,
    ];
    for (const init of variants) {
      const daw = await jam.page(LAPTOP, init);
      await daw.goto(`${jam.base}/daw`);
      await jam.dawReady(daw);
      await daw.locator('[data-testid=record-controls][data-store=memory]').waitFor(WAIT);
      expect(await daw.getByTestId('record-message').getAttribute('data-code')).toBe('STORAGE_UNAVAILABLE');
      expect(await daw.getByTestId('record-message').textContent()).toContain('cannot be kept across a reload');
      await startRecording(daw);
      const before = await triggered(daw);
      await dawPad(daw, 0).dispatchEvent('pointerdown');
      await expect.poll(() => triggered(daw), WAIT).toBe(before + 1);
      await stopRecording(daw);
      const midi = await downloadMidi(daw);
      expect(midi.tracks.map((track) => track.notes.map((note) => note.midi))).toEqual([[36]]);
      const wav = parseWav((await downloaded(daw, 'record-wav')).bytes);
      expect(peak(wav.left)).toBeGreaterThan(0.05);
      await daw.close();
    }
  });

  it('a full quota stops the take with a message, keeps what was stored, and the jam goes on', async () => {
    await jam.startServer();
    // A small quota on a profile on disk (tests/helpers/quota-daw.ts). This browser reports no
    // estimate (a stand-in: the estimate is removed by an init script), so the take runs into the
    // quota itself rather than its limit.
    await withQuotaLimitedDaw(
      jam.base,
      200_000,
      async (daw, _cdp, errors) => {
        await daw.goto(`${jam.base}/daw`);
        await jam.dawReady(daw);
        await daw.locator('[data-testid=record-controls][data-store=disk]').waitFor(WAIT);
        await startRecording(daw);
        await dawPad(daw, 0).dispatchEvent('pointerdown');
        await expect.poll(async () => Number(await controls(daw).getAttribute('data-saved-hits')), WAIT).toBe(1);
        // Sound fills it (silence is stored compressed, to almost nothing): cymbals until it stops
        // (each poll plays one; bounded by the wait).
        await expect
          .poll(
            async () => {
              await dawPad(daw, 6).dispatchEvent('pointerdown');
              return controls(daw).getAttribute('data-state');
            },
            { ...WAIT, interval: 500 },
          )
          .toBe('stopped');
        expect(await daw.getByTestId('record-message').getAttribute('data-code')).toBe('STORAGE_FULL');
        expect(await daw.getByTestId('record-message').textContent()).toContain('Storage is full');
        const midi = await downloadMidi(daw);
        expect(midi.tracks.map((track) => track.notes[0]?.midi)).toEqual([36]); // the first hit at least
        const wav = parseWav((await downloaded(daw, 'record-wav')).bytes);
        expect(peak(wav.left)).toBeGreaterThan(0.05);
        // The jam goes on.
        const before = await triggered(daw);
        await dawPad(daw, 3).dispatchEvent('pointerdown');
        await expect.poll(() => triggered(daw), WAIT).toBe(before + 1);
        expect(errors).toEqual([]);
      },
      () => {
        Object.defineProperty(StorageManager.prototype, 'estimate', { value: undefined, configurable: true });
      },
    );
  });
});
