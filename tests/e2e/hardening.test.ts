/**
 * Issue 9 in the browser: what the pages do about a DAW that is away, a room with a lock or a
 * PIN, a kick that is a ban, names that are refused, a broken join link, and the
 * Content-Security-Policy every page now carries. Real Chromium, real WebRTC, the real server,
 * inside the loopback-only namespace (tests/helpers/jam.ts).
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { LAPTOP, PHONE } from '../helpers/browser.ts';
import { E2E_WAIT_MS, type Jam, memberRow, padPoint, touch, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: E2E_WAIT_MS };

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

/** An init script: every Content-Security-Policy violation the page sees, kept for the test to read. */
const RECORD_CSP_VIOLATIONS = `{
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  });
}`;
const cspViolations = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);

async function tap(phone: Page, pad: number): Promise<void> {
  await touch(phone, [await padPoint(phone, pad)]);
}

describe('hits while the DAW is away (issue 9, 12)', () => {
  it('are held, then dropped and counted on the phone, and the count reaches the DAW’s row when it returns', async () => {
    await jam.startServer({ limits: { heartbeatMs: 1_000 } });
    const { daw, code } = await jam.openDaw();
    const phone = await jam.joinPhone(code, 'Ana');
    await waitForP2p(phone);
    await tap(phone, 0);
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-hits').textContent(), WAIT).toBe('1');

    // The DAW's tab goes (a reload, a crash, its laptop's WiFi): the phone sees it away.
    await daw.goto('about:blank');
    await phone.getByTestId('daw-away').waitFor(WAIT);
    for (const pad of [1, 2, 3]) await tap(phone, pad);
    // No way to the DAW for 250 ms: each is dropped, and the player sees it.
    await expect.poll(() => phone.getByTestId('dropped').textContent(), WAIT).toBe('3 dropped');

    // The DAW comes back (same tab, same room): it learns what was dropped while it was gone.
    await daw.goto(`${jam.base}/daw`);
    await jam.dawReady(daw);
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-dropped').textContent(), WAIT).toBe('3');
    await tap(phone, 4);
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-hits').textContent(), WAIT).toBe('1');
  });
});

describe('who may join (issue 9, 5–7, 14)', () => {
  it('asks a new phone for the DAW’s PIN, refuses a wrong one, and lets the right one in', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    await daw.getByTestId('pin-setting').fill('4826');
    await daw.getByRole('button', { name: 'Set PIN' }).click();
    expect(await daw.getByTestId('pin-shown').textContent()).toBe('4826');

    const phone = await jam.page(PHONE);
    await phone.goto(`${jam.phoneBase}/join/${code}`);
    await phone.getByTestId('name-input').fill('Ana');
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.getByTestId('pin-form').waitFor(WAIT);
    await phone.getByTestId('pin-input').fill('1111');
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.getByText('That PIN is not right').waitFor(WAIT);
    await phone.getByTestId('pin-input').fill('4826');
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await memberRow(daw, 'Ana').waitFor(WAIT);
    // A reload of the phone resumes with its token: no PIN asked again.
    await phone.reload();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    expect(await phone.getByTestId('pin-form').count()).toBe(0);
  });

  it('locks the room: newcomers are told, players already in come back; a kick keeps that phone out', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    const ana = await jam.joinPhone(code, 'Ana');
    const ben = await jam.joinPhone(code, 'Ben');
    await daw.getByTestId('lock').check();
    await daw.getByTestId('locked-badge').waitFor(WAIT);

    const late = await jam.page(PHONE);
    await late.goto(`${jam.phoneBase}/join/${code}`);
    await late.getByTestId('name-input').fill('Cleo');
    await late.getByRole('button', { name: 'Join' }).click();
    await late.locator('[data-testid=end][data-reason=refused]').waitFor(WAIT);
    expect(await late.locator('[data-testid=end] h1').textContent()).toBe('This jam is locked');

    await ana.reload();
    await ana.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);

    await memberRow(daw, 'Ben').getByRole('button', { name: 'Remove' }).click();
    await ben.locator('[data-testid=end][data-reason=kicked]').waitFor(WAIT);
    expect(await ben.getByRole('button', { name: 'Join again' }).count()).toBe(0);
    // Unlocked again, the kicked phone is still out: a kick is a ban for the room's lifetime.
    await daw.getByTestId('lock').uncheck();
    await ben.goto(`${jam.phoneBase}/join/${code}`); // its name is remembered: it joins at once
    await ben.locator('[data-testid=end][data-reason=refused]').waitFor(WAIT);
    expect(await ben.locator('[data-testid=end] h1').textContent()).toBe('You were removed from this jam');
  });

  it('says before joining why a name cannot be used, and shows the name the room gave', async () => {
    await jam.startServer();
    const { code } = await jam.openDaw();
    await jam.joinPhone(code, 'Ana');
    const phone = await jam.page(PHONE);
    await phone.goto(`${jam.phoneBase}/join/${code}`);
    for (const name of ['DAW', 'a\u202eb']) {
      await phone.getByTestId('name-input').fill(name);
      await phone.getByTestId('name-problem').waitFor(WAIT);
      expect(await phone.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
    }
    await phone.getByTestId('name-input').fill('ana');
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await expect.poll(() => phone.getByTestId('profile').textContent(), WAIT).toBe('ana 2');
  });
});

describe('tokens that expire (issue 9, 16)', () => {
  it('starts a new room by itself when the DAW’s kept room can no longer be taken back', async () => {
    await jam.startServer();
    // A hostToken from long ago (or from a server with another secret): refused.
    const stale = JSON.stringify({ room: 'ACDEF3', hostToken: `h.ACDEF3.old-daw.1.${'A'.repeat(22)}` });
    // Seeded once (the init script runs on every load of the tab).
    const seed = `if (!sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1');
        localStorage.setItem('padmesh.dawRoom', ${JSON.stringify(stale)});
      }`;
    const daw = await jam.page(LAPTOP, seed);
    await daw.goto(`${jam.base}/daw`);
    const code = await jam.dawReady(daw);
    expect(code).not.toBe('ACDEF3');
    expect(await daw.getByTestId('end').count()).toBe(0);
    const kept = await daw.evaluate(() => JSON.parse(localStorage.getItem('padmesh.dawRoom') ?? '{}').room);
    expect(kept).toBe(code);
  });
});

describe('pages (issue 9, 13, 15)', () => {
  it('load and run with the Content-Security-Policy in force (no violation on any page), isolated where that works', async () => {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    await daw.evaluate(RECORD_CSP_VIOLATIONS);
    const phone = await jam.joinPhone(code, 'Ana', RECORD_CSP_VIOLATIONS);
    await waitForP2p(phone);
    await tap(phone, 0);
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-hits').textContent(), WAIT).toBe('1');
    const start = await jam.page(LAPTOP, RECORD_CSP_VIOLATIONS);
    await start.goto(`${jam.base}/`);
    await start.getByTestId('start-daw').waitFor(WAIT);
    for (const page of [daw, phone, start]) expect(await cspViolations(page)).toEqual([]);
    // Isolation headers only where they take effect: a plain-http phone page logs no COOP error.
    expect(jam.consoleErrors.filter((error) => /Cross-Origin/i.test(error.text))).toEqual([]);
    expect(await daw.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await phone.evaluate(() => crossOriginIsolated)).toBe(false);
    const csp = await phone.evaluate(async () => (await fetch(location.href)).headers.get('content-security-policy'));
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('treat a join link with a broken escape as no room, instead of a blank page', async () => {
    await jam.startServer();
    const phone = await jam.page(PHONE);
    for (const path of ['/join/%', '/join/%E0%A4%A']) {
      await phone.goto(`${jam.phoneBase}${path}`);
      await phone.getByTestId('code-input').waitFor(WAIT);
      expect(await phone.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
    }
  });
});
