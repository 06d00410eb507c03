/**
 * Own samples and user kits (issue 10, item 2) in real headless Chromium: files dropped on a
 * DAW pad or picked for one, decoded by the browser, kept in its IndexedDB across reloads,
 * a kit exported to one file and imported by a friend, and every bad input refused with its
 * code, changing nothing. What reaches the engine is read from the sink each DAW pad shows
 * (`data-sound`, `data-frames`); tests/e2e/sound.test.ts hears it played.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { decodeKitFile, KIT_FILE_EXTENSION } from '../../client/audio/kit-file.ts';
import { MAX_SAMPLE_FILE_BYTES, MAX_SOUND_SECONDS, TRIM_PRE_ROLL_MS } from '../../client/audio/sample-import.ts';
import { LAPTOP } from '../helpers/browser.ts';
import { E2E_WAIT_MS, type Jam } from '../helpers/jam.ts';
import { withQuotaLimitedDaw } from '../helpers/quota-daw.ts';
import { useJam } from '../helpers/use-jam.ts';
import { wav } from '../helpers/wav.ts';

const WAIT = { timeout: E2E_WAIT_MS };

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

const samples = (page: Page) => page.getByTestId('samples');
const dawPad = (page: Page, pad: number) => page.locator(`[data-testid=daw-pad][data-pad="${pad}"]`);
const samplePad = (page: Page, pad: number) => page.locator(`[data-testid=sample-pad][data-pad="${pad}"]`);
const actionsDone = async (page: Page) => Number(await samples(page).getAttribute('data-done'));

/** Opens a DAW and waits for its stored kit to be restored. */
async function openDaw(init?: string): Promise<Page> {
  const daw = await jam.page(LAPTOP, init);
  await daw.goto(`${jam.base}/daw`);
  await jam.dawReady(daw);
  await kitLoaded(daw);
  return daw;
}

/** Waits for the DAW's stored kit to be restored (and handed to the engine). */
const kitLoaded = (daw: Page) => samples(daw).and(daw.locator('[data-loaded=true]')).waitFor(WAIT);

/** Runs something that starts one kit action, and waits for that action to finish. */
async function act(daw: Page, start: () => Promise<unknown>): Promise<void> {
  const before = await actionsDone(daw);
  await start();
  await expect.poll(() => actionsDone(daw), WAIT).toBeGreaterThan(before);
}

/** The refusal shown, as its code, or null. */
const shownError = async (daw: Page) => {
  const error = daw.getByTestId('sample-error');
  return (await error.count()) === 0 ? null : error.getAttribute('data-code');
};

/** Drops a file on a DAW pad as a person drags one from their file manager (bytes, or `size` zero bytes made in the page). */
async function dropFile(daw: Page, pad: number, name: string, content: Buffer | { size: number }): Promise<void> {
  const dataTransfer = await daw.evaluateHandle(
    ({ name, base64, size }) => {
      const bytes = base64 === null ? new Uint8Array(size) : Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: name.endsWith('.wav') ? 'audio/wav' : '' }));
      return transfer;
    },
    Buffer.isBuffer(content)
      ? { name, base64: content.toString('base64'), size: 0 }
      : { name, base64: null, size: content.size },
  );
  await act(daw, async () => {
    await dawPad(daw, pad).dispatchEvent('dragover', { dataTransfer });
    await dawPad(daw, pad).dispatchEvent('drop', { dataTransfer });
  });
}

/** Picks a file for a pad with its file dialog. */
const pickFile = (daw: Page, pad: number, name: string, buffer: Buffer) =>
  act(daw, () => samplePad(daw, pad).getByTestId('sample-file').setInputFiles({ name, mimeType: 'audio/wav', buffer }));

const importKit = (daw: Page, name: string, buffer: Buffer) =>
  act(daw, () => daw.getByTestId('kit-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer }));

/** What each DAW pad's sound is, as the engine was told: source and frames. */
const engineSounds = (daw: Page) =>
  daw.$$eval('[data-testid=daw-pad]', (pads) => pads.map((pad) => `${pad.dataset.sound}:${pad.dataset.frames}`));

/** The rate a new AudioContext has on this page: the engine's, and what samples are decoded at. */
const sampleRate = (daw: Page) =>
  daw.evaluate(() => {
    const context = new AudioContext();
    void context.close();
    return context.sampleRate;
  });

describe('own samples', () => {
  it('a file dropped on a pad is trimmed, kept and handed to the engine, names the pad on phones, and is there after a reload', async () => {
    await jam.startServer();
    const daw = await openDaw();
    const code = (await daw.getByTestId('room-code').textContent()) ?? '';
    const phone = await jam.joinPhone(code, 'Ana');
    const rate = await sampleRate(daw);
    const builtIn = await engineSounds(daw);
    expect(builtIn.every((sound) => sound === 'built-in:0')).toBe(true);

    // A stereo 44.1 kHz WAV, a quarter second of silence before half a second of sound.
    await dropFile(daw, 2, 'kick-mine.wav', wav({ channels: 2, silence: 0.25, seconds: 0.5 }));
    expect(await shownError(daw)).toBeNull();
    await expect.poll(() => dawPad(daw, 2).getAttribute('data-sound'), WAIT).toBe('sample');
    const frames = Number(await dawPad(daw, 2).getAttribute('data-frames'));
    // Resampled to the engine's rate, the silence gone but for the pre-roll (a resampler's few frames of slack).
    expect(Math.abs(frames - (0.5 + TRIM_PRE_ROLL_MS / 1000) * rate)).toBeLessThan(0.002 * rate);
    expect(await samplePad(daw, 2).getByTestId('sample-info').textContent()).toBe('0.50 s stereo');
    expect(await dawPad(daw, 2).locator('.pad-name').textContent()).toBe('kick-mine');
    // The pad's new name reaches the phone through the room state.
    await expect.poll(() => phone.locator('[data-testid=pad][data-pad="2"]').textContent(), WAIT).toBe('kick-mine');

    // Picked with the file dialog, normalised, onto another pad: mono.
    await daw.getByTestId('normalise').check();
    await pickFile(daw, 7, 'shaker.wav', wav({ seconds: 0.2, amplitude: 0.05 }));
    expect(await shownError(daw)).toBeNull();
    expect(await samplePad(daw, 7).getByTestId('sample-info').textContent()).toBe('0.20 s mono');
    const before = await engineSounds(daw);
    expect(before.filter((sound) => sound.startsWith('sample'))).toHaveLength(2);

    // A reload gets them back from IndexedDB, as they were.
    await daw.reload();
    await jam.dawReady(daw);
    await kitLoaded(daw);
    await expect.poll(() => engineSounds(daw), WAIT).toEqual(before);
    expect(await dawPad(daw, 2).locator('.pad-name').textContent()).toBe('kick-mine');
    expect(await samplePad(daw, 7).getByTestId('sample-info').textContent()).toBe('0.20 s mono');

    // Back to the built-in sound: kept so too.
    await act(daw, () => samplePad(daw, 2).getByTestId('sample-clear').click());
    expect(await dawPad(daw, 2).getAttribute('data-sound')).toBe('built-in');
    await daw.reload();
    await jam.dawReady(daw);
    await kitLoaded(daw);
    await expect.poll(() => dawPad(daw, 7).getAttribute('data-sound'), WAIT).toBe('sample');
    expect(await dawPad(daw, 2).getAttribute('data-sound')).toBe('built-in');
    expect(await dawPad(daw, 2).locator('.pad-name').textContent()).toBe(builtInName(2));
  });

  it('a kit exported to one file is imported by a friend: names, settings and sounds, kept there too', async () => {
    await jam.startServer();
    const daw = await openDaw();
    await pickFile(daw, 0, 'my kick.wav', wav({ seconds: 0.3, sampleRate: 48_000 }));
    await pickFile(daw, 9, 'tom.wav', wav({ seconds: 0.4, channels: 2, sampleRate: 22_050 }));
    await act(daw, () =>
      daw
        .getByTestId('kit-name')
        .fill('Party kit')
        .then(() => daw.getByTestId('kit-name').blur()),
    );
    await act(daw, () =>
      daw
        .getByTestId('pad-volume')
        .fill('-6')
        .then(() => daw.getByTestId('pad-volume').blur()),
    );
    await samplePad(daw, 9).locator('.pad-label').click();
    await act(daw, () =>
      daw
        .getByTestId('pad-name')
        .fill('Floor tom')
        .then(() => daw.getByTestId('pad-name').blur()),
    );
    await act(daw, () => daw.getByTestId('pad-color').fill('#123456'));
    expect(await shownError(daw)).toBeNull();
    const sounds = await engineSounds(daw);

    const [download] = await Promise.all([daw.waitForEvent('download'), daw.getByTestId('kit-export').click()]);
    expect(download.suggestedFilename()).toBe(`Party kit${KIT_FILE_EXTENSION}`);
    const file = await readFile((await download.path()) as string);
    const kit = decodeKitFile(file);
    expect(kit.name).toBe('Party kit');
    expect(kit.pads[0]?.name).toBe('my kick');
    expect(kit.pads[0]?.settings.volumeDb).toBe(-6);
    expect(kit.pads[9]?.sound?.channels).toHaveLength(2);
    expect(kit.pads.filter((pad) => pad.sound !== null)).toHaveLength(2);
    expect(kit.pads[9]).toMatchObject({ name: 'Floor tom', color: '#123456' });

    // A friend's DAW (its own browser profile: its own IndexedDB).
    const friend = await openDaw();
    await importKit(friend, 'Party kit.padkit', file);
    expect(await shownError(friend)).toBeNull();
    expect(await friend.getByTestId('sample-notice').textContent()).toContain('Party kit');
    expect(await friend.getByTestId('kit-select').locator('option:checked').textContent()).toBe('Party kit');
    // The friend's engine has the same rate here, so the same sounds to the frame.
    expect(await engineSounds(friend)).toEqual(sounds);
    expect(await dawPad(friend, 0).locator('.pad-name').textContent()).toBe('my kick');
    expect(await friend.getByTestId('pad-volume').inputValue()).toBe('-6');
    expect(await dawPad(friend, 9).locator('.pad-name').textContent()).toBe('Floor tom');
    expect(await dawPad(friend, 9).getAttribute('style')).toContain('#123456');
    await friend.reload();
    await jam.dawReady(friend);
    await kitLoaded(friend);
    await expect.poll(() => engineSounds(friend), WAIT).toEqual(sounds);
    // Both kits are there to pick: the friend's first one and the imported one.
    expect(await friend.getByTestId('kit-select').locator('option').allTextContents()).toEqual(
      expect.arrayContaining(['My kit', 'Party kit']),
    );
    await act(friend, () => friend.getByTestId('kit-select').selectOption({ label: 'My kit' }));
    expect((await engineSounds(friend)).every((sound) => sound === 'built-in:0')).toBe(true);
  });
});

/** The built-in kit's pad names (client/audio/kit.ts). */
const builtInName = (pad: number) =>
  ['Kick', 'Snare', 'Clap', 'Rim', 'Closed hat', 'Open hat', 'Crash', 'Ride'][pad] ?? '';

describe('bad input is refused with its code and changes nothing', () => {
  it('files that will not decode, are too large, too long or silent; broken kit files', async () => {
    await jam.startServer();
    const daw = await openDaw();
    await pickFile(daw, 1, 'snare.wav', wav({ seconds: 0.25 }));
    const kept = await engineSounds(daw);
    const keptInfo = await samplePad(daw, 1).getByTestId('sample-info').textContent();
    const [download] = await Promise.all([daw.waitForEvent('download'), daw.getByTestId('kit-export').click()]);
    const good = await readFile((await download.path()) as string);
    const kits = await daw.getByTestId('kit-select').locator('option').allTextContents();

    const unchanged = async () => {
      expect(await engineSounds(daw)).toEqual(kept);
      expect(await samplePad(daw, 1).getByTestId('sample-info').textContent()).toBe(keptInfo);
      expect(await daw.getByTestId('kit-select').locator('option').allTextContents()).toEqual(kits);
    };
    const refused = async (code: string, words: string) => {
      expect(await shownError(daw)).toBe(code);
      expect(await daw.getByTestId('sample-error').textContent()).toContain(words);
      await unchanged();
    };

    await dropFile(daw, 3, 'notes.wav', Buffer.from('these are my notes, not a sound'));
    await refused('DECODE_FAILED', 'cannot decode');
    await dropFile(daw, 1, 'cut.wav', wav({ seconds: 0.5 }).subarray(0, 30)); // over the kept sample: it stays
    await refused('DECODE_FAILED', 'cannot decode');
    await dropFile(daw, 3, 'huge.wav', { size: MAX_SAMPLE_FILE_BYTES + 1 });
    await refused('FILE_TOO_LARGE', `${MAX_SAMPLE_FILE_BYTES / 2 ** 20} MB`);
    await pickFile(daw, 3, 'long.wav', wav({ seconds: MAX_SOUND_SECONDS + 1, sampleRate: 8000 }));
    await refused('SOUND_TOO_LONG', `${MAX_SOUND_SECONDS} s`);
    await pickFile(daw, 1, 'silent.wav', wav({ seconds: 1, amplitude: 0 }));
    await refused('SOUND_SILENT', 'silent');

    const flipped = Buffer.from(good);
    const at = Math.floor(flipped.length * 0.75);
    flipped[at] = (flipped[at] as number) ^ 0x20;
    await importKit(daw, 'flipped.padkit', flipped);
    await refused('KIT_FILE_CORRUPT', 'checksum');
    await importKit(daw, 'cut.padkit', good.subarray(0, good.length - 100));
    await refused('KIT_FILE_CORRUPT', 'not a usable padmesh kit file');
    const newer = Buffer.from(good);
    newer.writeUInt32LE(2, 8);
    await importKit(daw, 'newer.padkit', newer);
    await refused('KIT_FILE_VERSION', 'version 2');
    await importKit(daw, 'snare.wav', wav({ seconds: 0.1 }));
    await refused('KIT_FILE_CORRUPT', 'does not start as one');

    // A good action clears the message; the reload shows nothing was kept of the refusals.
    await pickFile(daw, 4, 'hat.wav', wav({ seconds: 0.1 }));
    expect(await shownError(daw)).toBeNull();
    await daw.reload();
    await jam.dawReady(daw);
    await kitLoaded(daw);
    await expect.poll(() => dawPad(daw, 4).getAttribute('data-sound'), WAIT).toBe('sample');
    expect((await engineSounds(daw)).filter((sound) => sound.startsWith('sample'))).toHaveLength(2);
    expect(await samplePad(daw, 1).getByTestId('sample-info').textContent()).toBe(keptInfo);
    expect(await dawPad(daw, 3).getAttribute('data-sound')).toBe('built-in');
  });

  it('a full storage quota: the sample is refused and the kit stays as it was', async () => {
    await jam.startServer();
    // A real QuotaExceededError from IndexedDB (tests/helpers/quota-daw.ts).
    await withQuotaLimitedDaw(jam.base, 200_000, async (daw, cdp, errors) => {
      await daw.goto(`${jam.base}/daw`);
      await jam.dawReady(daw);
      await kitLoaded(daw);
      await pickFile(daw, 0, 'small.wav', wav({ seconds: 0.05 }));
      expect(await shownError(daw)).toBeNull();
      const kept = await engineSounds(daw);
      // About 3 MB of 16-bit sound, over the quota.
      await pickFile(daw, 5, 'pad.wav', wav({ seconds: 8, channels: 2, sampleRate: 48_000 }));
      expect(await shownError(daw)).toBe('STORAGE_FULL');
      expect(await daw.getByTestId('sample-error').textContent()).toContain('storage for this page is full');
      expect(await engineSounds(daw)).toEqual(kept);
      expect(await samplePad(daw, 5).getAttribute('data-sound')).toBe('built-in');
      expect(await dawPad(daw, 5).locator('.pad-name').textContent()).toBe('Open hat');
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: jam.base });
      await daw.reload();
      await jam.dawReady(daw);
      await kitLoaded(daw);
      await expect.poll(() => engineSounds(daw), WAIT).toEqual(kept);
      expect(await dawPad(daw, 5).locator('.pad-name').textContent()).toBe('Open hat');
      // With room again, the same file is taken.
      await pickFile(daw, 5, 'pad.wav', wav({ seconds: 8, channels: 2, sampleRate: 48_000 }));
      expect(await shownError(daw)).toBeNull();
      expect(await samplePad(daw, 5).getAttribute('data-sound')).toBe('sample');
      expect(errors).toEqual([]);
    });
  });

  it('no IndexedDB (missing, or refusing to open): the DAW plays its built-in kit and says why samples cannot be kept', async () => {
    await jam.startServer();
    const variants = [
      `Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });`,
      `IDBFactory.prototype.open = function () { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); };`,
    ];
    for (const init of variants) {
      const daw = await openDaw(init);
      const before = await engineSounds(daw);
      expect(before.every((sound) => sound === 'built-in:0')).toBe(true);
      await dropFile(daw, 0, 'kick.wav', wav({ seconds: 0.2 }));
      expect(await shownError(daw)).toBe('STORAGE_UNAVAILABLE');
      expect(await daw.getByTestId('sample-error').textContent()).toContain('cannot be kept');
      expect(await engineSounds(daw)).toEqual(before);
      // The jam goes on: a pad still plays.
      const triggered = Number(await daw.getByTestId('engine').getAttribute('data-triggered'));
      await dawPad(daw, 0).dispatchEvent('pointerdown');
      await expect
        .poll(async () => Number(await daw.getByTestId('engine').getAttribute('data-triggered')), WAIT)
        .toBeGreaterThan(triggered);
    }
  });
});
