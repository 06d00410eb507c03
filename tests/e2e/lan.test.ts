/**
 * A phone on another host of a LAN links P2P to the laptop's DAW page even when the WiFi
 * blocks multicast, so mDNS `.local` ICE candidates cannot be resolved: the signal server's
 * own STUN server lets the phone learn its real LAN address. The control: the same LAN with
 * STUN off, where the phone cannot link, stays on the relay, and still plays; and with
 * multicast passing, where mDNS alone is enough. Two hosts, each a network namespace, joined
 * by a veth pair inside the loopback-only one (tests/helpers/lan.ts), with the real
 * `npm start` on the laptop and Chromium on both, neither holding a media permission.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hitLog, memberRow, padPoint, touch, WAIT, waitForP2p } from '../helpers/jam.ts';
import { type Candidate, LAPTOP_IP, Lan, PHONE_IP, PORT, STUN_PORT } from '../helpers/lan.ts';

const NAME = 'Pia';
/**
 * How long the control watches a phone that must not link (its retries come after ~1 s, then
 * ~2 s): a watch for something that must not happen has no event to wait for, only a span.
 */
const STAYS_OFF_MS = 6_000;
/** Building the LAN starts namespaces and two Chromiums: seconds, more on a busy machine. */
const BUILD_MS = 120_000;

let lan: Lan | undefined;
beforeAll(async () => {
  lan = await Lan.create();
}, BUILD_MS);
afterAll(async () => {
  await lan?.close();
}, BUILD_MS);
afterEach(async () => {
  if (!lan) return;
  const errors = [...lan.errors];
  const server = { daw: `localhost:${PORT}`, phone: `${LAPTOP_IP}:${PORT}` };
  const outside = lan.requests.filter(
    ({ page, url }) => !new RegExp(`^(blob:)?(http|ws)://${server[page]}/`).test(url),
  );
  await lan.reset();
  expect(errors).toEqual([]);
  expect(outside, 'requests to anywhere but the laptop').toEqual([]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phoneTransport = (phone: Page) => phone.getByTestId('transport').getAttribute('data-transport');
const dawTransport = (daw: Page) => memberRow(daw, NAME).getAttribute('data-transport');
const describeCandidates = (candidates: Candidate[]) =>
  candidates.map(({ type, address }) => `${type} ${address.endsWith('.local') ? '<mdns>.local' : address}`).join(', ');

function net(): Lan {
  if (!lan) throw new Error('the LAN was not built');
  return lan;
}

/** The DAW on the laptop, and a phone that joins at the URL the DAW's QR code shows. */
async function dawAndPhone(): Promise<{ daw: Page; phone: Page; joinedAt: number }> {
  const { daw, code, joinUrl } = await net().openDaw();
  // The server found the laptop's LAN address: the QR code sends phones there.
  expect(joinUrl).toBe(`http://${LAPTOP_IP}:${PORT}/join/${code}`);
  const phone = await net().joinPhone(joinUrl, NAME);
  return { daw, phone, joinedAt: performance.now() };
}

async function tapArrives(daw: Page, phone: Page, pad: number, via: string, before: [number, string][] = []) {
  await touch(phone, [await padPoint(phone, pad)]);
  await expect
    .poll(async () => (await hitLog(daw)).map((hit) => [hit.pad, hit.via]), WAIT)
    .toEqual([...before, [pad, via]]);
}

describe('two hosts on a LAN', () => {
  it('links the phone P2P through the laptop’s STUN server when the WiFi blocks multicast DNS', async () => {
    const lan = net();
    lan.blockMulticast(true);
    await lan.startServer({ stun: true });
    expect(lan.serverOutput).toContain(`STUN on udp/${STUN_PORT}`);
    const { daw, phone, joinedAt } = await dawAndPhone();

    await waitForP2p(phone);
    const linkMs = performance.now() - joinedAt;
    await expect.poll(() => dawTransport(daw), WAIT).toBe('p2p');
    // Each welcome names the STUN server at the host that page reached the server by.
    expect(lan.iceServersOffered(phone)).toEqual([{ urls: `stun:${LAPTOP_IP}:${STUN_PORT}` }]);
    expect(lan.iceServersOffered(daw)).toEqual([{ urls: `stun:localhost:${STUN_PORT}` }]);
    // The phone hides its address behind an mDNS name, and STUN told it the real one.
    const phoneCandidates = lan.candidatesSent(phone);
    const dawCandidates = lan.candidatesSent(daw);
    const hosts = phoneCandidates.filter((candidate) => candidate.type === 'host');
    expect(hosts.length).toBeGreaterThan(0);
    expect(hosts.every((candidate) => candidate.address.endsWith('.local'))).toBe(true);
    expect(phoneCandidates).toContainEqual({ type: 'srflx', address: PHONE_IP });
    console.log(
      `LAN, multicast blocked, STUN on: P2P ${linkMs.toFixed(0)} ms after the phone joined; ` +
        `phone signalled [${describeCandidates(phoneCandidates)}], DAW [${describeCandidates(dawCandidates)}]`,
    );

    await tapArrives(daw, phone, 5, 'p2p');
  });

  it('cannot link with multicast DNS blocked and STUN off: the phone stays on the relay, and its hits play', async () => {
    const lan = net();
    lan.blockMulticast(true);
    await lan.startServer({ stun: false });
    expect(lan.serverOutput).toContain('STUN off (--stun-port 0)');
    const { daw, phone } = await dawAndPhone();
    expect(lan.iceServersOffered(phone)).toEqual([]);

    // Hits never wait for the link: this one goes through the relay while the first attempt runs.
    await tapArrives(daw, phone, 9, 'relay');
    // The attempt cannot open: after the open timeout (3 s) the phone says "relay", and so does the DAW.
    await phone.locator('[data-testid=transport][data-transport=relay]').waitFor(WAIT);
    await expect.poll(() => dawTransport(daw), WAIT).toBe('relay');
    // And it stays there: the retries fail too.
    const until = performance.now() + STAYS_OFF_MS;
    while (performance.now() < until) {
      expect(await phoneTransport(phone)).not.toBe('p2p');
      expect(await dawTransport(daw)).not.toBe('p2p');
      await sleep(250);
    }
    // It was not for want of trying: each end signalled only an mDNS name, and the other
    // end's queries to resolve it were dropped by the firewall.
    const candidates = [...lan.candidatesSent(phone), ...lan.candidatesSent(daw)];
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((candidate) => candidate.type === 'host' && candidate.address.endsWith('.local'))).toBe(
      true,
    );
    expect(lan.mdnsDropped()).toBeGreaterThan(0);
    console.log(
      `LAN, multicast blocked, STUN off: no P2P in ${STAYS_OFF_MS / 1000} s after the relay fallback; ` +
        `signalled [${describeCandidates(candidates)}], ${lan.mdnsDropped()} mDNS packets dropped`,
    );

    await tapArrives(daw, phone, 10, 'relay', [[9, 'relay']]);
  });

  it('links P2P through mDNS alone when the WiFi passes multicast (STUN off)', async () => {
    const lan = net();
    lan.blockMulticast(false);
    await lan.startServer({ stun: false });
    const { daw, phone, joinedAt } = await dawAndPhone();

    await waitForP2p(phone);
    const linkMs = performance.now() - joinedAt;
    await expect.poll(() => dawTransport(daw), WAIT).toBe('p2p');
    const candidates = [...lan.candidatesSent(phone), ...lan.candidatesSent(daw)];
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((candidate) => candidate.type === 'host' && candidate.address.endsWith('.local'))).toBe(
      true,
    );
    console.log(`LAN, multicast passing, STUN off: P2P ${linkMs.toFixed(0)} ms after the phone joined`);

    await tapArrives(daw, phone, 3, 'p2p');
  });
});
