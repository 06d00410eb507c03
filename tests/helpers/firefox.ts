/**
 * Debian's Firefox ESR for end-to-end tests, driven by puppeteer-core over WebDriver BiDi
 * (playwright-core cannot drive it: ../shared/notes/machine-facts.md, "Firefox"). What
 * tests/helpers/browser.ts and jam.ts do for Chromium, for Firefox:
 * - the prefs WebRTC needs in a loopback-only namespace (the microphone permission AND loopback
 *   ICE candidates; either alone gathers nothing), and the phones' host name mapped to loopback;
 * - a private PulseAudio with a null sink, started and stopped here: a Firefox page without an
 *   audio device keeps its AudioContext suspended for ever (an ALSA null device is no substitute);
 * - each page in its own window and its own user context (tabs of one window are hidden, all but
 *   the newest, and hidden pages get no requestAnimationFrame; contexts keep storage apart).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { FIREFOX_INSTALL_HINT, findFirefox, findPulseAudio, PULSEAUDIO_INSTALL_HINT } from '../../scripts/firefox.ts';
import { E2E_WAIT_MS, PHONE_HOST } from './jam.ts';

/** Prefs for every page: WebRTC on loopback, the phones' name, and nothing calling home. */
export const FIREFOX_PREFS: Record<string, unknown> = {
  // Both, or no ICE candidate at all in a loopback-only namespace (machine-facts).
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  // Chromium's --host-resolver-rules part: phones open http://phone.padmesh.test (not a secure context).
  'network.dns.localDomains': PHONE_HOST,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  // A window in the background must not be throttled: every page here is "in front" of a person.
  'dom.min_background_timeout_value': 4,
};

/**
 * Sound: `autoplay: true` lets an AudioContext start without a gesture (as Chromium's
 * --autoplay-policy flag); `false` is a person's browser, where only a click on the page starts it.
 * Measured here (Firefox ESR 153): without `block-webaudio` an AudioContext runs at once whatever
 * the policy says; with it, the first page of a browser waits for a gesture, but later pages of
 * the same browser may run at once (their documents activated or not): so a test that needs the
 * click opens its DAW as the first page of a browser of its own, and checks it waits.
 */
export const autoplayPrefs = (autoplay: boolean): Record<string, unknown> => ({
  'media.autoplay.default': autoplay ? 0 : 1,
  'media.autoplay.blocking_policy': autoplay ? 0 : 1,
  'media.autoplay.block-webaudio': !autoplay,
});

/** A private PulseAudio with one null sink, listening on a socket in its own folder. */
export class PulseAudio {
  private constructor(
    readonly dir: string,
    private readonly process: ChildProcess,
    private readonly exited: Promise<number | null>,
  ) {}

  /** What a client (Firefox) needs in its environment to play into this server. */
  get server(): string {
    return `unix:${join(this.dir, 'native')}`;
  }

  static async start(): Promise<PulseAudio> {
    const binary = findPulseAudio();
    if (!binary) throw new Error(PULSEAUDIO_INSTALL_HINT);
    const dir = await mkdtemp(join(tmpdir(), 'padmesh-pulse-'));
    const socket = join(dir, 'native');
    // Not a system daemon, no autospawn, no shared memory (Firefox's sandbox), never exits on idle.
    const child = spawn(
      binary,
      [
        '-n',
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--system=false',
        '--disable-shm=yes',
        '-L',
        'module-null-sink sink_name=null',
        '-L',
        `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      ],
      {
        env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4_000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const pulse = new PulseAudio(dir, child, exited);
    // Ready when its socket appears (a watch on the folder; bounded: a hang becomes an error).
    const watcher = watch(dir);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`PulseAudio made no socket in ${E2E_WAIT_MS} ms:\n${log}`)),
          E2E_WAIT_MS,
        );
        const done = (error?: Error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        watcher.on('change', () => existsSync(socket) && done());
        void exited.then((code) => done(new Error(`PulseAudio exited (${code}) before it was ready:\n${log}`)));
        if (existsSync(socket)) done();
      });
    } catch (error) {
      await pulse.stop();
      throw error;
    } finally {
      watcher.close();
    }
    return pulse;
  }

  /** Ends it (SIGTERM; SIGKILL if it has not exited within E2E_WAIT_MS) and removes its folder. */
  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), E2E_WAIT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface FirefoxOptions {
  /** The sound device for pages that play (a DAW); without one a Firefox AudioContext never runs. */
  pulse?: PulseAudio;
  /** Prefs beyond FIREFOX_PREFS (e.g. autoplayPrefs). */
  prefs?: Record<string, unknown>;
}

export async function launchFirefox(options: FirefoxOptions = {}): Promise<Browser> {
  const executablePath = findFirefox();
  if (!executablePath) throw new Error(FIREFOX_INSTALL_HINT);
  const env: Record<string, string | undefined> = { ...process.env };
  if (options.pulse) env.PULSE_SERVER = options.pulse.server;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    // Longer than any wait of a test: a busy machine must not turn a slow answer into a protocol error.
    protocolTimeout: E2E_WAIT_MS + 15_000,
    env,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...options.prefs },
  });
  withoutScriptActivation(browser);
  return browser;
}

/** The part of puppeteer's BiDi connection used here (not in its public types). */
interface BidiConnection {
  send(method: string, params?: Record<string, unknown>, timeout?: number): Promise<unknown>;
}

/**
 * Puppeteer runs every evaluate (and so every waitForSelector and locator check) over BiDi with
 * `userActivation: true`: to Firefox each is a person's gesture, and a page whose sound waits for
 * one (an AudioContext blocked by the autoplay policy) starts it on a test's mere look. Here only
 * real input (clicks, keys: `input.performActions`) activates a page, as for a person.
 */
function withoutScriptActivation(browser: Browser): void {
  const connection = (browser as unknown as { connection?: BidiConnection }).connection;
  if (!connection || typeof connection.send !== 'function') {
    throw new Error('puppeteer-core changed: its BiDi browser has no `connection` to send through');
  }
  const send = connection.send.bind(connection);
  connection.send = (method, params, timeout) =>
    send(
      method,
      (method === 'script.callFunction' || method === 'script.evaluate') && params
        ? { ...params, userActivation: false }
        : params,
      timeout,
    );
}

export const FIREFOX_PHONE = { width: 390, height: 844 } as const;
export const FIREFOX_LAPTOP = { width: 1280, height: 800 } as const;

/** What a Firefox page reported that a test must see: uncaught errors and console errors. */
export interface FirefoxPageLog {
  errors: Error[];
  consoleErrors: string[];
}

/**
 * A page in a fresh user context and its own window (visible, so it renders frames), sized as
 * asked, with `init` run before any of the page's own scripts.
 */
export async function newFirefoxPage(
  browser: Browser,
  viewport: { width: number; height: number },
  log: FirefoxPageLog,
  init?: (() => void) | string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage({ type: 'window' });
  page.setDefaultTimeout(E2E_WAIT_MS);
  await page.setViewport(viewport);
  // A string is safest: tsx may wrap a function's inner functions in helpers the page lacks (`__name`).
  if (init) await page.evaluateOnNewDocument(init);
  page.on('pageerror', (error) => log.errors.push(error as Error));
  page.on('console', (message) => {
    if (message.type() === 'error') log.consoleErrors.push(message.text());
  });
  return { context, page };
}

/** A phone in Firefox joins room `code` over plain http (not a secure context), as from a QR code. */
export async function joinFirefoxPhone(
  browser: Browser,
  phoneBase: string,
  code: string,
  name: string,
  log: FirefoxPageLog,
  init?: string,
): Promise<Page> {
  const { page } = await newFirefoxPage(browser, FIREFOX_PHONE, log, init);
  await page.goto(`${phoneBase}/join/${code}`);
  await page.locator('[data-testid=name-input]').fill(name);
  await page.locator('button[type=submit]').click();
  await page.waitForSelector('[data-testid=status][data-state=connected]');
  return page;
}

/** A DAW page in Firefox; resolves once it has its room (sound is the test's to start or see). */
export async function openFirefoxDaw(
  browser: Browser,
  base: string,
  query: string,
  log: FirefoxPageLog,
  init?: string,
): Promise<{ daw: Page; code: string }> {
  const { page } = await newFirefoxPage(browser, FIREFOX_LAPTOP, log, init);
  await page.goto(`${base}/daw${query}`);
  await page.waitForFunction(() =>
    /^[A-Z0-9]{6}$/.test(document.querySelector('[data-testid=room-code]')?.textContent ?? ''),
  );
  const code = await page.$eval('[data-testid=room-code]', (element) => element.textContent ?? '');
  return { daw: page, code };
}

/** Clicks pad `pad` of a phone page with the mouse: a real pointerdown through the page's own handler. */
export async function clickPad(phone: Page, pad: number): Promise<void> {
  await phone.locator(`[data-testid=pad][data-pad="${pad}"]`).click();
}
