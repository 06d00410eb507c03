/**
 * Issue 10 through the whole product: phones play the DAW's sampler, and the engine's own
 * counters (`padmeshEngine.stats()` on `/daw?record=N`: the slot of the last hit started and the
 * length of the sound it played) say which sound each hit played. A built-in kit switch reaches
 * the phones' pads and the engine's sounds; a sample dropped on a pad plays on the phone's next
 * hit there and after a DAW reload; a melodic phone's hits play its part's notes, from a bank
 * of their own, never silence. Runs only in the loopback-only namespace npm test makes.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { LAPTOP } from '../helpers/browser.ts';
import { E2E_WAIT_MS, type Jam, padPoint, touch, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';
import { wav } from '../helpers/wav.ts';

const WAIT = { timeout: E2E_WAIT_MS };

interface Stats {
  hits: number;
  started: number;
  silent: number;
  lastSlot: number;
  lastLength: number;
}
const stats = (daw: Page): Promise<Stats> =>
  daw.evaluate(() => (window as unknown as { padmeshEngine: { stats(): Stats } }).padmeshEngine.stats());

/** One tap on the phone, and the engine's counters once it has started that hit. */
async function tapAndWait(daw: Page, phone: Page, pad: number): Promise<Stats> {
  const before = (await stats(daw)).started;
  await touch(phone, [await padPoint(phone, pad)]);
  await expect.poll(async () => (await stats(daw)).started, WAIT).toBeGreaterThan(before);
  return stats(daw);
}

const padName = (phone: Page, pad: number) => phone.locator(`[data-testid=pad][data-pad="${pad}"]`).textContent();

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

async function start(): Promise<{ daw: Page; phone: Page; code: string }> {
  await jam.startServer();
  const daw = await jam.page(LAPTOP);
  await daw.goto(`${jam.base}/daw?record=1000`);
  const code = await jam.dawReady(daw);
  const phone = await jam.joinPhone(code, 'Ana');
  await waitForP2p(phone);
  return { daw, phone, code };
}

describe('the sound engine in a jam', () => {
  it('switches the built-in kit: phones show its pads, and hits play its sounds', async () => {
    const { daw, phone } = await start();
    expect(await padName(phone, 0)).toBe('Kick');
    const electronic = await tapAndWait(daw, phone, 0);
    expect(electronic.lastSlot).toBe(0);
    expect(electronic.silent).toBe(0);

    // The acoustic kit's third pad is a rimshot where the electronic one has a clap.
    expect(await padName(phone, 2)).toBe('Clap');
    // The same buttons, renamed in place (not made anew): a pad never vanishes from under a finger.
    const phonePad = await phone.locator('[data-testid=pad][data-pad="2"]').elementHandle();
    const dawPad = await daw.locator('[data-testid=daw-pad][data-pad="2"]').elementHandle();
    await daw.getByTestId('built-in-kit').selectOption('acoustic');
    await expect.poll(() => padName(phone, 2), WAIT).toBe('Rimshot');
    expect(await phonePad?.evaluate((pad) => pad.isConnected && pad.textContent)).toBe('Rimshot');
    await expect
      .poll(() => dawPad?.evaluate((pad) => pad.isConnected && pad.querySelector('.pad-name')?.textContent), WAIT)
      .toBe('Rimshot');
    await daw.locator('[data-testid=kit-state][data-state=ready]').waitFor({ ...WAIT, state: 'attached' });
    const acoustic = await tapAndWait(daw, phone, 0);
    expect(acoustic.lastSlot).toBe(0);
    // Another sound: the acoustic kick's render is not the electronic one's length.
    expect(acoustic.lastLength).not.toBe(electronic.lastLength);
    expect(acoustic.silent).toBe(0);

    // The choice is kept: a reloaded DAW plays the acoustic kit again.
    await daw.reload();
    await jam.dawReady(daw);
    expect(await daw.getByTestId('built-in-kit').inputValue()).toBe('acoustic');
  });

  it('plays a sample dropped on a pad on the phone’s next hit there, and after a DAW reload', async () => {
    const { daw, phone } = await start();
    const sample = wav({ seconds: 0.25, sampleRate: 48_000 });
    const dataTransfer = await daw.evaluateHandle((base64) => {
      const transfer = new DataTransfer();
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], 'clap-take-2.wav', { type: 'audio/wav' }));
      return transfer;
    }, sample.toString('base64'));
    const pad = daw.locator('[data-testid=daw-pad]').nth(5);
    await pad.dispatchEvent('dragover', { dataTransfer });
    await pad.dispatchEvent('drop', { dataTransfer });
    await daw.locator('[data-testid=daw-pad][data-sound=sample]').waitFor(WAIT);
    const frames = Number(await daw.locator('[data-testid=daw-pad]').nth(5).getAttribute('data-frames'));
    expect(frames).toBeGreaterThan(0);
    await expect.poll(() => padName(phone, 5), WAIT).toBe('clap-take-2');

    const played = await tapAndWait(daw, phone, 5);
    expect(played).toMatchObject({ lastSlot: 5, lastLength: frames, silent: 0 });

    await daw.reload();
    await jam.dawReady(daw);
    await daw.locator('[data-testid=daw-pad][data-sound=sample]').waitFor(WAIT);
    await waitForP2p(phone);
    const again = await tapAndWait(daw, phone, 5);
    expect(again).toMatchObject({ lastSlot: 5, lastLength: frames, silent: 0 });
  });

  it('plays a melodic phone’s notes from its part’s own bank, never silence', async () => {
    const { daw, phone } = await start();
    const drums = await tapAndWait(daw, phone, 12);
    expect(drums.lastSlot).toBe(12);
    await daw
      .locator('[data-testid=member][data-role=controller]')
      .getByTestId('member-instrument')
      .selectOption('bass');
    await expect.poll(() => padName(phone, 12), WAIT).toBe('C1');
    // Its notes render, then its hits go to its bank (until then they play the drums: never an empty slot).
    await expect
      .poll(async () => {
        const played = await tapAndWait(daw, phone, 12);
        return played.lastSlot >= 16 ? played.lastSlot % 16 : -1;
      }, WAIT)
      .toBe(12);
    const low = await stats(daw);
    const high = await tapAndWait(daw, phone, 3);
    expect(Math.floor(high.lastSlot / 16)).toBe(Math.floor(low.lastSlot / 16));
    expect(high.lastSlot % 16).toBe(3);
    expect(high.silent).toBe(0);
    // Back on drums: the kit's slots again.
    await daw
      .locator('[data-testid=member][data-role=controller]')
      .getByTestId('member-instrument')
      .selectOption('drums');
    await expect.poll(() => padName(phone, 12), WAIT).toBe('Cowbell');
    await expect.poll(async () => (await tapAndWait(daw, phone, 12)).lastSlot, WAIT).toBe(12);
  });
});
