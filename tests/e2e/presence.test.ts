/**
 * The pages in a real headless Chromium against the real server and the built app: start a
 * jam, phones join by the DAW's join URL, presence on both sides, a DAW reload that keeps
 * the room, a kick, the end screens. The pages try WebRTC by themselves (without the
 * microphone permission they gather no candidates here), so this too runs only in the
 * loopback-only namespace npm test makes.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Limits } from '../../signal/limits.ts';
import { createSignalServer, type SignalServer } from '../../signal/server.ts';
import { LAPTOP, launchChromium, PHONE } from '../helpers/browser.ts';
import { PAGE_TIMEOUT_MS, requireLoopbackOnly, WAIT } from '../helpers/jam.ts';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'client');
let browser: Browser;
let server: SignalServer;
let base: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  requireLoopbackOnly(); // the pages try WebRTC on their own
  if (!existsSync(join(dist, 'index.html')))
    throw new Error('dist/client is not built: run `npm run build` (npm test does)');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  await server.close();
});

async function start(limits: Partial<Limits> = {}): Promise<void> {
  server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: dist, limits });
  base = `http://127.0.0.1:${server.port}`;
}

async function page(options: typeof PHONE | typeof LAPTOP): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const created = await context.newPage();
  created.setDefaultTimeout(PAGE_TIMEOUT_MS);
  created.on('pageerror', (error) => {
    throw error;
  });
  return created;
}

async function openDaw(): Promise<{ daw: Page; code: string; joinUrl: string }> {
  const daw = await page(LAPTOP);
  await daw.goto(`${base}/`);
  await daw.getByTestId('start-daw').click();
  await daw.waitForFunction(() =>
    /^[A-Z0-9]{6}$/.test(document.querySelector('[data-testid=room-code]')?.textContent ?? ''),
  );
  const code = (await daw.getByTestId('room-code').textContent()) ?? '';
  await daw.waitForFunction(() => document.querySelector('[data-testid=join-url]')?.textContent?.startsWith('http'));
  const joinUrl = (await daw.getByTestId('join-url').textContent()) ?? '';
  return { daw, code, joinUrl };
}

async function tryJoin(url: string, name: string): Promise<Page> {
  const phone = await page(PHONE);
  await phone.goto(url);
  await phone.getByTestId('name-input').fill(name);
  await phone.getByRole('button', { name: 'Join' }).click();
  return phone;
}

async function joinPhone(url: string, name: string): Promise<Page> {
  const phone = await tryJoin(url, name);
  await phone.locator('[data-testid=status][data-state=connected]').waitFor();
  return phone;
}

const memberCount = (daw: Page) => daw.locator('[data-testid=member]').count();

describe('presence in the browser', () => {
  it('shows phones on the DAW as they join, keeps the room over a DAW reload, and kicks', async () => {
    await start();
    const { daw, code, joinUrl } = await openDaw();
    expect(joinUrl).toBe(`${base}/join/${code}`);
    await daw.locator('.qr svg').waitFor();

    const ana = await joinPhone(joinUrl, 'Ana');
    const ben = await joinPhone(joinUrl, 'Ben');
    await expect.poll(() => memberCount(daw), WAIT).toBe(3);
    expect(await daw.locator('[data-testid=member][data-role=controller] .name').allTextContents()).toEqual([
      'Ana',
      'Ben',
    ]);
    expect(await ana.getByTestId('room-code').textContent()).toBe(code);

    await daw.reload();
    await daw.waitForFunction(
      (expected) => document.querySelector('[data-testid=room-code]')?.textContent === expected,
      code,
    );
    await expect.poll(() => memberCount(daw), WAIT).toBe(3);
    await ana.locator('[data-testid=status][data-state=connected]').waitFor();

    await daw.locator('[data-testid=member][data-role=controller]', { hasText: 'Ben' }).getByRole('button').click();
    await ben.locator('[data-testid=end][data-reason=kicked]').waitFor();
    expect(await ben.locator('[data-testid=end] h1').textContent()).toBe('You were removed from the jam');
    await expect.poll(() => memberCount(daw), WAIT).toBe(2);
  });

  it('shows the DAW away on phones when its tab goes, and the end of the jam when it does not return', async () => {
    await start({ dawGraceMs: 1_500, heartbeatMs: 100 });
    const { daw, joinUrl } = await openDaw();
    const ana = await joinPhone(joinUrl, 'Ana');
    await daw.context().close();
    await ana.getByTestId('daw-away').waitFor();
    expect(await ana.getByTestId('daw-away').textContent()).toContain('DAW away');
    await ana.locator('[data-testid=end][data-reason=session-closed]').waitFor();
    expect(await ana.locator('[data-testid=end] h1').textContent()).toBe('The jam has ended');
    await ana.getByRole('button', { name: 'Another code' }).click();
    await ana.getByTestId('code-input').waitFor();
  });

  it('tells a phone with a wrong code, and lets it try another', async () => {
    await start();
    const phone = await tryJoin(`${base}/join/ACDEF3`, 'Ana');
    await phone.locator('[data-testid=end][data-reason=refused]').waitFor();
    expect(await phone.locator('[data-testid=end] h1').textContent()).toBe('No jam with that code');
    await phone.getByRole('button', { name: 'Another code' }).click();
    await phone.getByTestId('code-input').waitFor();
  });

  it('asks again for a code that cannot be one', async () => {
    await start();
    const phone = await page(PHONE);
    await phone.goto(`${base}/join/0000`);
    expect(await phone.locator('.warning').textContent()).toContain('“0000” is not a room code');
    expect(await phone.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
  });
});
