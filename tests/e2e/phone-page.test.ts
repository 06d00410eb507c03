/**
 * The phone page's own look at a phone's width (390 px, PHONE): its header keeps the player's
 * name readable whatever else it shows, here while reconnecting (the longest status) with the
 * timing badge up. The pages try WebRTC, so this runs only in the loopback-only namespace.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { E2E_WAIT_MS, type Jam, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: E2E_WAIT_MS };

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

/** The name chip's box and text: whether the whole name shows, and nothing in the header overflows the page. */
const header = (phone: Page) =>
  phone.evaluate(() => {
    const chip = document.querySelector('[data-testid=profile]') as HTMLElement;
    const bar = document.querySelector('.play-bar') as HTMLElement;
    return {
      chipWidth: chip.getBoundingClientRect().width,
      nameCut: chip.scrollWidth > chip.clientWidth,
      barOverflows: bar.scrollWidth > bar.clientWidth,
      status: document.querySelector('[data-testid=status]')?.getAttribute('data-state'),
    };
  });

describe('the phone page at 390 px', () => {
  it('keeps the player’s name whole in the header while reconnecting', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Alexandra');
    await waitForP2p(phone);
    expect(await header(phone)).toMatchObject({ nameCut: false, barOverflows: false, status: 'connected' });
    // The server goes: the phone shows "Reconnecting…" beside its P2P badge and timing.
    await jam.stopServer();
    await phone.locator('[data-testid=status][data-state=reconnecting]').waitFor(WAIT);
    const reconnecting = await header(phone);
    expect(reconnecting).toMatchObject({ nameCut: false, barOverflows: false });
    expect(reconnecting.chipWidth).toBeGreaterThan(60);
    await phone.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/padmesh-phone-reconnecting.png` });
  });
});
