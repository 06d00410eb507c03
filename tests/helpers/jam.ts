/**
 * A jam in real headless Chromium: the real signal server serving the built app, a DAW
 * page (laptop size) and phone pages (touch, phone size), talking WebRTC over loopback.
 * WebRTC may only run inside a loopback-only network namespace (npm test makes one):
 * `requireLoopbackOnly()` refuses to start anywhere else, so ICE can never reach a real
 * network from a test.
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { RecordedHits } from '../../client/state/hit-recorder.ts';
import type { Limits } from '../../signal/limits.ts';
import { createSignalServer, type SignalServer } from '../../signal/server.ts';
import { LAPTOP, launchChromium, PHONE } from './browser.ts';

export const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'client');

/** Flags WebRTC needs in a loopback-only namespace (../shared/notes/machine-facts.md), and sound without a gesture. */
export const WEBRTC_ARGS = [
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  // Phones open plain http://<lan-ip>, which is not a secure context; this name maps to loopback.
  '--host-resolver-rules=MAP phone.padmesh.test 127.0.0.1',
];
/** The name phones use: not localhost, so the page is not a secure context, as on a real LAN. */
export const PHONE_HOST = 'phone.padmesh.test';

/**
 * How long a browser test waits for something the product does (a page, a link, a hit): far
 * more than it takes (a second or two), because on a loaded 2-core machine a Chromium page can
 * stall for seconds. The bound only turns a hang into a failure; nothing waits it out.
 */
export const E2E_WAIT_MS = 45_000;
/** For Playwright's `waitFor` and Vitest's `expect.poll`. */
export const WAIT = { timeout: E2E_WAIT_MS };
/** Playwright's default for actions (click, fill) and waits without a timeout of their own. */
export const PAGE_TIMEOUT_MS = 30_000;

/** Whether this process's network namespace has loopback only. */
export const isLoopbackOnly = (): boolean => Object.keys(networkInterfaces()).every((name) => name === 'lo');

/** A page init script: this browser has no WebRTC (or it is switched off), as some privacy settings do. */
export function withoutWebRtc(): void {
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel']) {
    Object.defineProperty(window, name, { value: undefined, configurable: true });
  }
}

export function requireLoopbackOnly(): void {
  const others = Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
  if (others.length > 0) {
    throw new Error(
      `WebRTC tests run only in a loopback-only network namespace, but this one has ${others.join(', ')}. ` +
        'Run them with `npm test` (which makes one), or: unshare -rn sh -c "ip link set lo up && npx vitest run tests/e2e"',
    );
  }
}

export interface JamOptions {
  limits?: Partial<Limits>;
  /** Serve HTTPS too (`npm start -- --https`), on a free loopback port, with this key and certificate. */
  https?: { key: string; cert: string };
}

/** One browser, one server (restartable on its port), and every page made through it. */
export class Jam {
  server: SignalServer | null = null;
  port = 0;
  /** The HTTPS port (startServer's `https`), kept across a restart like `port`; 0 until one is picked. */
  httpsPort = 0;
  readonly #secret = `jam-test-secret-${process.pid}-0123456789`;
  readonly #contexts: BrowserContext[] = [];
  readonly errors: Error[] = [];
  /** Every URL any page asked for: none may leave this machine (no CDN, no fonts, no STUN out there). */
  readonly requests: { page: string; url: string }[] = [];
  /** Every console error of every page, from its first script on. */
  readonly consoleErrors: { page: string; text: string }[] = [];

  private constructor(readonly browser: Browser) {}

  static async launch(): Promise<Jam> {
    requireLoopbackOnly();
    if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/client is not built: run `npm run build`');
    return new Jam(await launchChromium(WEBRTC_ARGS));
  }

  async startServer(options: JamOptions = {}): Promise<void> {
    this.server = await createSignalServer({
      host: '127.0.0.1',
      port: this.port,
      staticDir: DIST,
      secret: this.#secret,
      limits: options.limits ?? {},
      // As `npm start` does: a STUN server on the laptop, advertised in welcome (here on a free loopback port).
      stunPort: 0,
      // Phones reach the laptop by a name mapped to loopback (not localhost, so not a secure context).
      allowedHosts: [PHONE_HOST],
      ...(options.https ? { https: { port: this.httpsPort, ...options.https } } : {}),
    });
    this.port = this.server.port;
    this.httpsPort = this.server.httpsPort ?? 0;
  }

  async stopServer(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get phoneBase(): string {
    return `http://${PHONE_HOST}:${this.port}`;
  }

  /** Where phones reach the HTTPS listener (startServer's `https`). */
  get httpsPhoneBase(): string {
    return `https://${PHONE_HOST}:${this.httpsPort}`;
  }

  /** `canGather: false` leaves out the permission, so the page gathers no ICE candidates: P2P cannot form. */
  /** `init`: a function or script source run in every page before its own code. */
  /** `context`: more for the browser context (ignoreHTTPSErrors, permissions beside the microphone). */
  async page(
    options: typeof PHONE | typeof LAPTOP,
    init?: (() => void) | string,
    canGather = true,
    context: BrowserContextOptions = {},
  ): Promise<Page> {
    // The microphone permission is what lets Chromium gather loopback ICE candidates (machine-facts.md).
    const permissions = [...(canGather ? ['microphone'] : []), ...(context.permissions ?? [])];
    const browserContext = await this.browser.newContext({ ...options, ...context, permissions });
    this.#contexts.push(browserContext);
    await browserContext.addInitScript(recordPeerConnections);
    if (typeof init === 'string') await browserContext.addInitScript({ content: init });
    else if (init) await browserContext.addInitScript(init);
    const page = await browserContext.newPage();
    const label = 'hasTouch' in options ? 'phone' : 'daw';
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on('pageerror', (error) => this.errors.push(error));
    page.on('request', (request) => this.requests.push({ page: label, url: request.url() }));
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push({ page: label, text: message.text() });
    });
    return page;
  }

  /** `query`: e.g. `?record=5000` (the DAW's hit recorder, state/hit-recorder.ts). */
  async openDaw(query = ''): Promise<{ daw: Page; code: string }> {
    const daw = await this.page(LAPTOP);
    await daw.goto(`${this.base}/daw${query}`);
    return { daw, code: await this.dawReady(daw) };
  }

  /** Waits for the DAW page to have its room and sound; returns the room code. */
  dawReady(daw: Page): Promise<string> {
    return dawReady(daw);
  }

  /** A phone joins over plain http (not a secure context), as from a QR code. */
  async joinPhone(code: string, name: string, init?: (() => void) | string, canGather = true): Promise<Page> {
    return this.joinPhoneAt(`${this.phoneBase}/join/${code}`, name, { init, canGather });
  }

  /** A phone opens `url` (a join URL, as from the DAW's QR code) and joins under `name`. */
  async joinPhoneAt(
    url: string,
    name: string,
    options: { init?: (() => void) | string | undefined; canGather?: boolean; context?: BrowserContextOptions } = {},
  ): Promise<Page> {
    const phone = await this.page(PHONE, options.init, options.canGather ?? true, options.context);
    await phone.goto(url);
    await phone.getByTestId('name-input').fill(name);
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor();
    return phone;
  }

  /** Between tests: every page closed, the server stopped (the next test starts its own on a new port). */
  async reset(): Promise<void> {
    for (const context of this.#contexts.splice(0)) await context.close().catch(() => {});
    await this.stopServer();
    this.port = 0;
    this.httpsPort = 0;
    this.errors.length = 0;
    this.requests.length = 0;
    this.consoleErrors.length = 0;
  }

  async close(): Promise<void> {
    await this.reset();
    await this.browser.close();
  }
}

/** Waits for a DAW page to have its room and sound; returns the room code. */
export async function dawReady(daw: Page): Promise<string> {
  await daw.waitForFunction(() =>
    /^[A-Z0-9]{6}$/.test(document.querySelector('[data-testid=room-code]')?.textContent ?? ''),
  );
  // With the autoplay flag the context may start by itself; otherwise it takes the button, as for a person.
  const running = daw.locator('[data-testid=engine][data-state=running]');
  await running.or(daw.getByTestId('enable-sound')).first().waitFor();
  if (!(await running.isVisible())) await daw.getByTestId('enable-sound').click();
  await running.waitFor();
  // Its kit rendered: every pad has its sound.
  await daw.locator('[data-testid=engine][data-kit=ready]').waitFor();
  return (await daw.getByTestId('room-code').textContent()) ?? '';
}

/**
 * Runs in every page before its own code: wraps RTCPeerConnection to record each one put to use
 * and the ICE servers it was given, so tests can see that a connection survived (none new)
 * and that no STUN server but the laptop's is ever used (ICE traffic is not an HTTP request).
 */
function recordPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const used: unknown[] = [];
  (window as unknown as { __peerConnections: unknown[] }).__peerConnections = used;
  // Recorded when first given a description, not when made: the DAW makes one ahead of need
  // (client/net/spare-connection.ts), and one that never served a phone is not a connection made for it.
  window.RTCPeerConnection = class extends Native {
    private readonly iceServers: unknown;
    private recorded = false;
    constructor(config?: RTCConfiguration) {
      super(config);
      this.iceServers = JSON.parse(JSON.stringify(config?.iceServers ?? null));
    }
    private record(): void {
      if (this.recorded) return;
      this.recorded = true;
      used.push(this.iceServers);
    }
    override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
      this.record();
      return super.setLocalDescription(description);
    }
    override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      this.record();
      return super.setRemoteDescription(description);
    }
  };
}

/** The ICE servers of every RTCPeerConnection the page put to use (gave a description), oldest first. */
export const peerConnections = (page: Page): Promise<unknown[]> =>
  page.evaluate(() => (window as unknown as { __peerConnections?: unknown[] }).__peerConnections ?? []);

/** Where to touch a pad: its centre, or `across` (0–1) of the way along its width. */
export async function padPoint(phone: Page, pad: number, across = 0.5): Promise<{ x: number; y: number }> {
  const box = await phone.locator(`[data-testid=pad][data-pad="${pad}"]`).boundingBox();
  if (!box) throw new Error(`pad ${pad} is not on screen`);
  return { x: box.x + box.width * across, y: box.y + box.height / 2 };
}

/** Fingers down together (one touchStart with several points), then up: real multi-touch through CDP. */
export async function touch(phone: Page, points: { x: number; y: number }[]): Promise<void> {
  const cdp = await phone.context().newCDPSession(phone);
  const touchPoints = points.map((point, id) => ({ ...point, id, radiusX: 4, radiusY: 4, force: 0.5 }));
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

export interface LoggedHit {
  peer: string;
  pad: number;
  velocity: number;
  via: string;
  delayMs: number | null;
}

/** The DAW's recent-hits list, oldest first. */
export async function hitLog(daw: Page): Promise<LoggedHit[]> {
  const hits = await daw.locator('[data-testid=hit]').evaluateAll((items) =>
    items.map((item) => {
      const data = (item as HTMLElement).dataset;
      return {
        peer: data.peer ?? '',
        pad: Number(data.pad),
        velocity: Number(data.velocity),
        via: data.via ?? '',
        delayMs: data.delayMs ? Number(data.delayMs) : null,
      };
    }),
  );
  return hits.reverse();
}

export const peerIdOf = async (daw: Page, name: string): Promise<string> =>
  (await daw.locator('[data-testid=member]', { hasText: name }).getAttribute('data-peer')) ?? '';

export const memberRow = (daw: Page, name: string) =>
  daw.locator('[data-testid=member][data-role=controller]', { hasText: name });

export async function memberHits(daw: Page, name: string): Promise<number> {
  return Number(await memberRow(daw, name).getByTestId('member-hits').textContent());
}

/**
 * Taps pad `pad` `count` times, `intervalMs` apart, inside the phone page: real pointerdown
 * events on the real pad, through the page's own handler (PadGrid → ControllerLink → the
 * channel), on a self-correcting schedule (a late timer catches up, so the rate holds).
 * Resolves when all are dispatched. For rhythms too fast or long to drive over CDP.
 */
export async function tapRhythm(
  phone: Page,
  options: { pad: number; count: number; intervalMs: number },
): Promise<void> {
  await phone.evaluate(
    ({ pad, count, intervalMs }) =>
      new Promise<void>((resolve, reject) => {
        const target = document.querySelector(`[data-testid=pad][data-pad="${pad}"]`);
        if (!(target instanceof HTMLElement)) return reject(new Error(`no pad ${pad}`));
        const box = target.getBoundingClientRect();
        const at = { clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 };
        const start = performance.now();
        let sent = 0;
        const tick = () => {
          const due = Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1);
          for (; sent < due; sent++) {
            const init = {
              ...at,
              bubbles: true,
              cancelable: true,
              pointerType: 'touch',
              pointerId: 2,
              isPrimary: true,
            };
            target.dispatchEvent(new PointerEvent('pointerdown', { ...init, pressure: 0.5 }));
            target.dispatchEvent(new PointerEvent('pointerup', init));
          }
          if (sent >= count) resolve();
          else setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
        };
        tick();
      }),
    options,
  );
}

/** The DAW's hit recorder (`/daw?record=N`, client/state/hit-recorder.ts), exported. */
export async function recordedHits(daw: Page): Promise<RecordedHits> {
  return daw.evaluate(() => {
    const recorder = (window as unknown as { padmeshRecorder?: { export(): RecordedHits } }).padmeshRecorder;
    if (!recorder) throw new Error('the DAW page was not opened with ?record=N');
    return recorder.export();
  });
}

/**
 * An init script for a phone whose clock is off: `performance.timeOrigin` (so the page's wall
 * clock) reads `skewMs` ahead of the machine's. Phones' clocks are never quite the DAW's.
 */
export function skewedClock(skewMs: number): string {
  return `{
    const real = performance.timeOrigin;
    Object.defineProperty(performance, 'timeOrigin', { get: () => real + ${Number(skewMs)} });
  }`;
}

/** Waits (bounded) until a phone says its hits go P2P. */
export const waitForP2p = (phone: Page, timeout = E2E_WAIT_MS): Promise<void> =>
  phone.locator('[data-testid=transport][data-transport=p2p]').waitFor({ timeout });
