/**
 * The phone page's own look at a phone's width (390 px, PHONE): its header keeps the player's
 * name readable whatever else it shows, here while reconnecting (the longest status) with the
 * timing badge up. The pages try WebRTC, so this runs only in the loopback-only namespace.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PHONE } from '../helpers/browser.ts';
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

/** An init script: `navigator.vibrate` counted (on `window.__buzzes`), not passed on. */
const countBuzzes = () => {
  const w = window as unknown as { __buzzes: number };
  w.__buzzes = 0;
  Object.defineProperty(Navigator.prototype, 'vibrate', {
    configurable: true,
    value: () => {
      w.__buzzes += 1;
      return true;
    },
  });
};

/**
 * In the phone page: taps pad 0 `count` times in one task (down, then up), like fingers faster than
 * frames, `spacingMs` apart (a busy wait; 0: at once). Each pointerdown's timeStamp is kept on
 * `window.__tapTimes`.
 */
const tapsInOneTask = (phone: Page, count: number, spacingMs = 0) =>
  phone.evaluate(
    ([count, spacingMs]) => {
      const pad = document.querySelector('[data-testid=pad][data-pad="0"]') as HTMLElement;
      const box = pad.getBoundingClientRect();
      const init = {
        clientX: box.x + box.width / 2,
        clientY: box.y + box.height / 2,
        bubbles: true,
        cancelable: true,
        pointerType: 'touch',
        pointerId: 2,
        isPrimary: true,
      };
      let litInTap = false;
      const times: number[] = [];
      (window as unknown as { __tapTimes: number[] }).__tapTimes = times;
      const first = performance.now();
      for (let n = 0; n < count; n++) {
        while (performance.now() - first < n * spacingMs) {} // busy: the taps stay in one task
        const down = new PointerEvent('pointerdown', init);
        times.push(down.timeStamp);
        pad.dispatchEvent(down);
        litInTap ||= pad.classList.contains('down');
        pad.dispatchEvent(new PointerEvent('pointerup', init));
      }
      // The first frame shows the pad lit although every finger has lifted; a moment later it is out
      // (waited for frame by frame, at most 5 s).
      const frame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
      return frame().then(async () => {
        const litAtFrame = pad.classList.contains('down');
        const start = performance.now();
        while (pad.classList.contains('down') && performance.now() - start < 5_000) await frame();
        return { litInTap, litAtFrame, outLater: !pad.classList.contains('down') };
      });
    },
    [count, spacingMs] as const,
  );

describe('the pads', () => {
  it('light at the next frame, not in the tap; a tap shorter than a frame still lights its pad, which then goes out', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Quick');
    await waitForP2p(phone);
    // Lit in the tap, the pad's style would be stale for the next tap, which reads where it was struck.
    expect(await tapsInOneTask(phone, 3)).toEqual({ litInTap: false, litAtFrame: true, outLater: true });
  });

  it('keep a pad lit when tapped again while lit, and draw no frame until it goes out', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Again');
    await waitForP2p(phone);
    const frames = await phone.evaluate(async () => {
      const pad = document.querySelector('[data-testid=pad][data-pad="0"]') as HTMLElement;
      const box = pad.getBoundingClientRect();
      const finger = {
        clientX: box.x + box.width / 2,
        clientY: box.y + box.height / 2,
        bubbles: true,
        pointerId: 2,
        pointerType: 'touch',
        isPrimary: true,
      };
      const untilOut = async () => {
        const start = performance.now();
        while (pad.classList.contains('down') && performance.now() - start < 5_000) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return !pad.classList.contains('down');
      };
      // A busy machine may bring the frame late: only a try whose frame came well within the first
      // light's 50 ms tests anything, so up to 10 tries.
      for (let attempt = 0; attempt < 10; attempt++) {
        const downAt = performance.now();
        pad.dispatchEvent(new PointerEvent('pointerdown', finger)); // held down across the frame: lit there
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const lit = pad.classList.contains('down');
        const early = performance.now() - downAt < 30;
        // Lifted, and at once tapped again: lit 50 ms from now, past when the first light was due out.
        pad.dispatchEvent(new PointerEvent('pointerup', finger));
        pad.dispatchEvent(new PointerEvent('pointerdown', finger));
        pad.dispatchEvent(new PointerEvent('pointerup', finger));
        let asked = 0;
        const ask = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (callback) => {
          asked += 1;
          return ask(callback);
        };
        const out = await untilOut();
        window.requestAnimationFrame = ask;
        if (!out) return -1;
        if (lit && early) return asked;
      }
      return -2;
    });
    expect(frames).toBe(1); // the frame that puts it out (-1: it never went out; -2: no frame came within 30 ms)
  });

  it('buzz once for taps that come within BUZZ_EVERY_MS (40 ms) of the last buzz', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Buzzy', countBuzzes); // joining is a real click: buzzes are allowed
    await waitForP2p(phone);
    await tapsInOneTask(phone, 20); // 20 taps in one task: far less than 40 ms apart, on any machine
    const buzzes = await phone.evaluate(() => (window as unknown as { __buzzes: number }).__buzzes);
    expect(buzzes).toBeGreaterThanOrEqual(1);
    expect(buzzes).toBeLessThan(20);
  });

  it('buzz at most every 40 ms (BUZZ_EVERY_MS) for taps farther apart than a buzz lasts', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Rolls', countBuzzes);
    await waitForP2p(phone);
    await tapsInOneTask(phone, 8, 10.5); // a 95 taps/s roll: each tap after the last 8 ms buzz has ended
    const { buzzes, times } = await phone.evaluate(() => {
      const w = window as unknown as { __buzzes: number; __tapTimes: number[] };
      return { buzzes: w.__buzzes, times: w.__tapTimes };
    });
    // What the rule gives for the taps' own times (a busy machine may stretch a gap, never shorten it).
    let expected = 0;
    let until = Number.NEGATIVE_INFINITY;
    for (const at of times) {
      if (at < until) continue;
      expected += 1;
      until = at + 40;
    }
    expect(expected).toBeLessThan(8);
    expect(buzzes).toBe(expected);
  });
});

/**
 * An init script: `name` remembered (none when null) and, for a returning player, the browser's id (a
 * browser that has joined before has one); the page's signaling sockets watched (on `window.__sockets`):
 * how many were made, how many made while the HTML was still being parsed (by the page's first script,
 * before the app's code ran), how many joins were sent, and whether the page had made its pads when its
 * join went out and when its first signal (the offer to the DAW) did.
 */
const watchSockets = (name: string | null, returning = true) => `{
  if (${JSON.stringify(name)} !== null) localStorage.setItem('padmesh.name', ${JSON.stringify(name)});
  if (${returning}) localStorage.setItem('padmesh.deviceId', 'returning-' + Math.random().toString(36).slice(2));
  const seen = { made: 0, madeWhileParsing: 0, joins: 0, joinedBeforePads: null, offeredBeforePads: null };
  window.__sockets = seen;
  const noPads = () => document.querySelector('[data-testid=pad]') === null;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      seen.made += 1;
      if (document.readyState === 'loading') seen.madeWhileParsing += 1;
    }
    send(data) {
      if (typeof data === 'string' && data.startsWith('{"type":"join"')) {
        seen.joins += 1;
        seen.joinedBeforePads ??= noPads();
      }
      if (typeof data === 'string' && data.startsWith('{"type":"signal"')) seen.offeredBeforePads ??= noPads();
      return super.send(data);
    }
  };
}`;

interface Sockets {
  made: number;
  madeWhileParsing: number;
  joins: number;
  joinedBeforePads: boolean | null;
  offeredBeforePads: boolean | null;
}
const sockets = (phone: Page) => phone.evaluate(() => (window as unknown as { __sockets: Sockets }).__sockets);

describe('a returning player’s page', () => {
  it('opens its socket and sends its join before its app has run, then its offer before it makes its pads, over one socket', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    // The page waits for its offer only so long (VIEW_WAIT_MS) before it makes its pads: on a machine so busy
    // that the offer took longer, it made its pads first, as it should. Such a load proves nothing of the
    // order, so another is made (at most 8).
    let proof: Sockets | null = null;
    for (let load = 0; load < 8 && proof === null; load++) {
      const phone = await jam.page(PHONE, watchSockets('Remi'));
      await phone.goto(`${jam.phoneBase}/join/${code}`);
      await waitForP2p(phone);
      const seen = await sockets(phone);
      // Made by the page's first script (inlined in index.html) while the HTML was parsed, and taken over by
      // the app: no second socket, no second join.
      expect(seen).toMatchObject({ made: 1, madeWhileParsing: 1, joins: 1, joinedBeforePads: true });
      if (seen.offeredBeforePads) proof = seen;
      await phone.context().close();
    }
    expect(proof).toMatchObject({ offeredBeforePads: true });
  });

  it('is made only by a browser that joined before, and closed unused when its remembered name cannot be used', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    // name remembered, browser id made (it has joined before), sockets made by the page's first script.
    for (const [name, returning, early] of [
      [null, false, 0], // a first visit: nothing remembered, the join form
      ['DAW', true, 1], // made, then closed before it opened: the name fails the server's rule, the join form
    ] as const) {
      const phone = await jam.page(PHONE, watchSockets(name, returning));
      await phone.goto(`${jam.phoneBase}/join/${code}`);
      // The page has run and rendered its form: a socket of the page's first script was made before that.
      await phone.getByTestId('name-input').waitFor(WAIT);
      expect(await sockets(phone), String(name)).toMatchObject({ made: early, madeWhileParsing: early, joins: 0 });
      await phone.getByTestId('name-input').fill('Noor');
      await phone.getByRole('button', { name: 'Join' }).click();
      await waitForP2p(phone);
      expect(await sockets(phone), String(name)).toMatchObject({ made: early + 1, joins: 1 });
      await phone.context().close();
    }
    // A name but no browser id (storage half cleared): the app joins at once, over a socket of its own.
    const phone = await jam.page(PHONE, watchSockets('Noor', false));
    await phone.goto(`${jam.phoneBase}/join/${code}`);
    await waitForP2p(phone);
    expect(await sockets(phone)).toMatchObject({ made: 1, madeWhileParsing: 0, joins: 1 });
  });
});
