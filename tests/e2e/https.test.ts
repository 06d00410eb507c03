/**
 * `npm start -- --https` end to end (issue 12, item 5): the server serves the app and the
 * socket over TLS with a self-signed certificate beside plain http; the DAW stays on
 * http://localhost (cross-origin isolated as before) and gives phones an https join URL; a
 * phone that trusts nothing refuses the page until the certificate is accepted, then joins,
 * links P2P, plays, and keeps its screen awake with the Wake Lock API.
 *
 * Stand-ins, because a real part cannot exist here:
 * - Accepting the certificate warning: a browser context with `ignoreHTTPSErrors` (what a person
 *   does by tapping through the warning). The same phone without it is shown to refuse the page.
 * - The LAN address: this namespace has loopback only, and a loopback address is a secure
 *   context even over plain http, so the DAW's `/api/lan` answer names the phones' host
 *   (phone.padmesh.test, mapped to loopback, as the other tests' phones use) instead.
 * - The screen wake lock: headless Chromium refuses every request (`NotAllowedError`) unless the
 *   context holds the `screen-wake-lock` permission (Playwright's name for CDP's
 *   `wakeLockScreen`), which is what a phone's browser gives a visible page; the phone without
 *   it shows the refusal.
 * - Hiding the page: headless Chromium never hides one (see background-daw.test.ts), so an init
 *   script hides it as a browser does: `visibilityState` 'hidden', every wake lock released (the
 *   real sentinels' real release()), `visibilitychange` fired.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificateNames, makeCertificate } from '../../signal/certificate.ts';
import { LAPTOP, PHONE } from '../helpers/browser.ts';
import { Jam, memberHits, PHONE_HOST, padPoint, touch, WAIT, waitForP2p } from '../helpers/jam.ts';

let jam: Jam;
let certificate: { key: string; cert: string };
beforeAll(async () => {
  jam = await Jam.launch();
  certificate = await makeCertificate(certificateNames([], 'padmesh-test'), new Date());
});
afterAll(async () => {
  await jam?.close();
});
afterEach(async () => {
  const errors = [...jam.errors];
  const outside = jam.requests.filter(
    ({ url }) => !/^(blob:)?(https?|wss?):\/\/(127\.0\.0\.1|phone\.padmesh\.test):\d+\//.test(url),
  );
  await jam.reset();
  expect(errors).toEqual([]);
  expect(outside, 'requests to anywhere but this server').toEqual([]);
});

/**
 * Records every screen wake lock the page takes (window.__wakeLocks), and lets the test hide and
 * show the page as a browser does (window.__hide(true | false)).
 */
const WAKE_LOCK_WATCH = `{
  const locks = [];
  window.__wakeLocks = locks;
  const wakeLock = navigator.wakeLock;
  if (wakeLock) {
    const request = wakeLock.request.bind(wakeLock);
    wakeLock.request = async (type) => {
      const lock = await request(type);
      locks.push(lock);
      return lock;
    };
  }
  let hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  window.__hide = async (on) => {
    hidden = on;
    if (on) await Promise.all(locks.map((lock) => lock.release()));
    document.dispatchEvent(new Event('visibilitychange'));
  };
}`;

const wakeLocks = (phone: Page): Promise<{ released: boolean }[]> =>
  phone.evaluate(() =>
    ((window as unknown as { __wakeLocks: WakeLockSentinel[] }).__wakeLocks ?? []).map((lock) => ({
      released: lock.released,
    })),
  );
const screenAwake = (phone: Page) => phone.getByTestId('screen-awake').getAttribute('data-state');

/** The server with HTTPS, a DAW on http://127.0.0.1 whose /api/lan names the phones' host; its https join URL. */
async function dawWithHttps(): Promise<{ daw: Page; joinUrl: string }> {
  await jam.startServer({ https: certificate });
  const daw = await jam.page(LAPTOP);
  await daw.route('**/api/lan', async (route) => {
    const reply = await route.fetch();
    const body = (await reply.json()) as { hosts: string[]; httpsPort: number | null };
    await route.fulfill({ response: reply, json: { ...body, hosts: [PHONE_HOST] } });
  });
  await daw.goto(`${jam.base}/daw`);
  await jam.dawReady(daw);
  const joinUrl = (await daw.getByTestId('join-url').textContent()) ?? '';
  return { daw, joinUrl };
}

describe('npm start -- --https', () => {
  it('a phone that accepted the certificate joins over https, links P2P, plays, and keeps its screen awake', async () => {
    const { daw, joinUrl } = await dawWithHttps();
    // The DAW stays on plain http on this laptop, cross-origin isolated as before.
    expect(await daw.evaluate(() => [location.protocol, window.crossOriginIsolated])).toEqual(['http:', true]);
    // Phones are sent to the https port, and the DAW says what their browser will show.
    expect(joinUrl).toMatch(new RegExp(`^https://${PHONE_HOST}:${jam.httpsPort}/join/[A-Z0-9]{6}$`));
    await expect.poll(() => daw.getByTestId('certificate-note').textContent(), WAIT).toContain('Visit Website');

    // A phone that trusts nothing: the page does not load until the warning is accepted.
    const wary = await jam.page(PHONE, undefined, false);
    await expect(wary.goto(joinUrl)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);

    const phone = await jam.joinPhoneAt(joinUrl, 'Ana', {
      init: WAKE_LOCK_WATCH,
      context: { ignoreHTTPSErrors: true, permissions: ['screen-wake-lock'] },
    });
    // A secure context, and (over TLS, where COOP/COEP take effect) cross-origin isolated.
    expect(await phone.evaluate(() => [location.protocol, window.isSecureContext, window.crossOriginIsolated])).toEqual(
      ['https:', true, true],
    );
    await waitForP2p(phone);
    for (const pad of [0, 5, 10]) await touch(phone, [await padPoint(phone, pad)]);
    await expect.poll(() => memberHits(daw, 'Ana'), WAIT).toBe(3);

    // The screen stays awake: one wake lock, held, and the page says nothing about sleep.
    await expect.poll(() => screenAwake(phone), WAIT).toBe('on');
    expect(await wakeLocks(phone)).toEqual([{ released: false }]);
    expect(await phone.getByTestId('screen-awake').isVisible()).toBe(false);

    // Hidden, the browser drops the lock; shown again, the page takes a new one.
    await phone.evaluate(() => (window as unknown as { __hide(on: boolean): Promise<void> }).__hide(true));
    await expect.poll(() => screenAwake(phone), WAIT).toBe('asking');
    await phone.evaluate(() => (window as unknown as { __hide(on: boolean): Promise<void> }).__hide(false));
    await expect.poll(() => screenAwake(phone), WAIT).toBe('on');
    expect(await wakeLocks(phone)).toEqual([{ released: true }, { released: false }]);

    // The jam ends for this phone: the lock is let go.
    await phone.getByTestId('profile').click();
    await phone.getByRole('button', { name: 'Leave the jam' }).click();
    await expect.poll(() => wakeLocks(phone), WAIT).toEqual([{ released: true }, { released: true }]);
    // Nothing on either page complained (no ignored isolation header, no unhandled refusal).
    expect(jam.consoleErrors).toEqual([]);
  });

  it('says so when the browser refuses the wake lock, and plays all the same', async () => {
    const { daw, joinUrl } = await dawWithHttps();
    const phone = await jam.joinPhoneAt(joinUrl, 'Ben', { context: { ignoreHTTPSErrors: true } });
    await expect.poll(() => screenAwake(phone), WAIT).toBe('refused');
    expect(await phone.getByTestId('screen-awake').textContent()).toContain('refused to keep it awake');
    await waitForP2p(phone);
    await touch(phone, [await padPoint(phone, 3)]);
    await expect.poll(() => memberHits(daw, 'Ben'), WAIT).toBe(1);
  });

  it('on plain http (the default), a phone says its screen may sleep and works as before', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    expect(await daw.getByTestId('join-url').textContent()).toMatch(/^http:/);
    expect(await daw.getByTestId('certificate-note').count()).toBe(0);
    const phone = await jam.joinPhone(code, 'Cleo');
    expect(await phone.evaluate(() => window.isSecureContext)).toBe(false);
    await expect.poll(() => screenAwake(phone), WAIT).toBe('insecure');
    expect(await phone.getByTestId('screen-awake').textContent()).toContain('plain http');
    await waitForP2p(phone);
    await touch(phone, [await padPoint(phone, 1)]);
    await expect.poll(() => memberHits(daw, 'Cleo'), WAIT).toBe(1);
  });
});
