/**
 * The phone's early signaling socket (client/index.html's inline script, client/net/early-socket.ts):
 * a returning player's phone opens its socket while the page is still being parsed, before the
 * app's code has loaded, and the app joins on that socket instead of opening another; a phone
 * that does not join at once closes it. Real Chromium, the real server and build, with its
 * Content-Security-Policy (which allows the inline script by its hash only). Runs in the
 * loopback-only namespace (the phone tries WebRTC).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PHONE } from '../helpers/browser.ts';
import { E2E_WAIT_MS, type Jam, memberRow, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: E2E_WAIT_MS };

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

/** Init script: a saved name (or none), and every WebSocket the page makes, with the document's state then. */
const phoneScript = (name: string | null) => `
  ${name === null ? '' : `localStorage.setItem('padmesh.name', ${JSON.stringify(name)});`}
  const made = [];
  window.__sockets = made;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      made.push({ socket: this, readyState: document.readyState, sent: [] });
      const entry = made[made.length - 1];
      const send = this.send.bind(this);
      this.send = (data) => { entry.sent.push(String(data).slice(0, 40)); send(data); };
    }
  };`;

type Made = { parsing: boolean; open: boolean; joinedOnIt: boolean }[];
const sockets = (phone: Page): Promise<Made> =>
  phone.evaluate(() =>
    (window as unknown as { __sockets: { socket: WebSocket; readyState: string; sent: string[] }[] }).__sockets.map(
      (entry) => ({
        parsing: entry.readyState === 'loading',
        open: entry.socket.readyState === WebSocket.OPEN,
        joinedOnIt: entry.sent.some((text) => text.startsWith('{"type":"join"')),
      }),
    ),
  );

describe('the phone’s early signaling socket', () => {
  it('is opened while the page is parsed, and the returning player joins on it (no second socket)', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    const phone = await jam.page(PHONE, phoneScript('Ana'));
    await phone.goto(`${jam.phoneBase}/join/${code}`);
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await waitForP2p(phone);
    await memberRow(daw, 'Ana').waitFor(WAIT);
    expect(await sockets(phone)).toEqual([{ parsing: true, open: true, joinedOnIt: true }]);
  });

  it('is closed when the page does not join at once, and not opened without a saved name', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    // A saved name the room cannot take (the DAW's own): the page asks for another, joining nobody yet.
    const reserved = await jam.page(PHONE, phoneScript('DAW'));
    await reserved.goto(`${jam.phoneBase}/join/${code}`);
    await reserved.getByTestId('name-problem').waitFor(WAIT);
    await expect.poll(() => sockets(reserved), WAIT).toEqual([{ parsing: true, open: false, joinedOnIt: false }]);
    // A first visit: no name, no socket until the player joins (then the app's own).
    const first = await jam.page(PHONE, phoneScript(null));
    await first.goto(`${jam.phoneBase}/join/${code}`);
    await first.getByTestId('name-input').fill('Ben');
    expect(await sockets(first)).toEqual([]);
    await first.getByRole('button', { name: 'Join' }).click();
    await first.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    expect(await sockets(first)).toEqual([{ parsing: false, open: true, joinedOnIt: true }]);
  });
});
