/**
 * The faulty LAN (tests/helpers/faulty-lan.ts) does what it claims, so a benchmark can trust
 * it: two hosts, each a network namespace inside the loopback-only one, joined by a
 * userspace wire (tests/helpers/tap-wire.py between a TAP in each) that delays every frame
 * 20 ± 10 ms and keeps its order, with nftables dropping 5 % of the UDP arriving at each host
 * and no TCP. The wire's own counters show the holds it gave (its model, whatever the load);
 * real UDP across it shows at least that delay, its spread and the loss (statistical bounds far
 * enough out that they cannot flake, and no upper bound on time: a busy machine adds delay); a DAW on the laptop and a phone still link P2P across it
 * through the laptop's STUN server; the wire's own loss and its queue cap work and are
 * counted; and it refuses bad arguments.
 */
import { spawnSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePython } from '../../scripts/loopback-namespace.ts';
import { FaultyLan, summarizeMs, TAP_WIRE, tapWireArgs } from '../helpers/faulty-lan.ts';
import { hitLog, memberRow, padPoint, touch, WAIT, waitForP2p } from '../helpers/jam.ts';
import { LAPTOP_IP, PORT } from '../helpers/lan.ts';

const DELAY_MS = 20;
const JITTER_MS = 10;
const UDP_LOSS_PERCENT = 5;
/** Building the LAN starts namespaces, the wire and two Chromiums: seconds, more on a busy machine. */
const BUILD_MS = 120_000;

let faulty: FaultyLan | undefined;
let setupMs = 0;
beforeAll(async () => {
  const startedAt = performance.now();
  faulty = await FaultyLan.create({ delayMs: DELAY_MS, jitterMs: JITTER_MS, udpLossPercent: UDP_LOSS_PERCENT });
  setupMs = performance.now() - startedAt;
}, BUILD_MS);
afterAll(async () => {
  const final = await faulty?.close();
  if (final) console.log(`faulty LAN: wire's final counters ${JSON.stringify(final)}`);
}, BUILD_MS);
afterEach(async () => {
  if (!faulty) return;
  const errors = [...faulty.lan.errors];
  await faulty.lan.reset();
  expect(errors).toEqual([]);
  expect(faulty.wire.running, `the wire stopped: ${faulty.wire.stderr}`).toBe(true);
});

function net(): FaultyLan {
  if (!faulty) throw new Error('the faulty LAN was not built');
  return faulty;
}

const fixed = (value: number) => value.toFixed(1);

describe('a faulty LAN: two hosts joined by a userspace wire (20 ± 10 ms) with 5 % UDP loss', () => {
  it('delays each frame 20 ± 10 ms one way, both ways, keeping order', async () => {
    const lan = net();
    console.log(`faulty LAN built (namespaces, wire, nft, two Chromiums) in ${setupMs.toFixed(0)} ms`);
    // Datagrams 25 ms apart: wider than the jitter's 20 ms span, so FIFO never holds one back
    // and each one-way delay is the wire's draw (uniform 10–30 ms) plus the stack's own time.
    const wireBefore = await lan.wireStats();
    const [there, back] = await Promise.all([
      lan.probeUdp({ from: 'laptop', count: 120, intervalMs: 25 }),
      lan.probeUdp({ from: 'phone', count: 120, intervalMs: 25, port: 9_998 }),
    ]);
    const wire = await lan.wireStats();
    for (const [label, probe, key] of [
      ['laptop → phone', there, 'laptopToPhone'],
      ['phone → laptop', back, 'phoneToLaptop'],
    ] as const) {
      const delay = summarizeMs(probe.oneWayMs);
      // The delays the wire drew for these frames (its model), the holds they got, how late it woke to write them.
      const [was, now] = [wireBefore[key], wire[key]];
      const held = now.held - was.held;
      const drawMean = (now.drawMsSum - was.drawMsSum) / held;
      const drawStd = Math.sqrt(Math.max(0, (now.drawMsSumSq - was.drawMsSumSq) / held - drawMean ** 2));
      const holdMean = (now.holdMsSum - was.holdMsSum) / held;
      const lateMean = (now.lateMsSum - was.lateMsSum) / held;
      console.log(
        `${label}: ${probe.received}/${probe.sent} arrived (${probe.bufferDropped} dropped by a full socket buffer); ` +
          `one way mean ${fixed(delay.mean)} ms, sd ${fixed(delay.std)}, min ${fixed(delay.min)}, p50 ${fixed(delay.p50)}, ` +
          `p99 ${fixed(delay.p99)}, max ${fixed(delay.max)} ms; the wire drew mean ${fixed(drawMean)}, sd ${fixed(drawStd)} ` +
          `for ${held} frames, held them ${fixed(holdMean)} on average, wrote them ${lateMean.toFixed(2)} ms late on ` +
          `average, ${fixed(now.lateMsMax)} at most so far`,
      );
      expect(probe.sent).toBe(120);
      expect(probe.received + probe.bufferDropped).toBeGreaterThan(90); // 5 % loss: ~114
      expect(probe.duplicates).toBe(0);
      expect(probe.reordered).toBe(0);
      // The wire's model, whatever the load: each frame's delay drawn from delay ± jitter, uniformly
      // (~125 draws of uniform 10–30 ms: mean 20 ± 0.5 (1 sd), sd 5.8 ± 0.3), and held for no less
      // and, order kept, no more than that span allows.
      expect(held).toBeGreaterThanOrEqual(probe.received);
      expect(Math.abs(drawMean - DELAY_MS)).toBeLessThan(2.5);
      expect(drawStd).toBeGreaterThan(4.3);
      expect(drawStd).toBeLessThan(7.3);
      expect(now.holdMsMin).toBeGreaterThanOrEqual(DELAY_MS - JITTER_MS - 0.001);
      expect(now.holdMsMax).toBeLessThanOrEqual(DELAY_MS + JITTER_MS + 0.001);
      // What arrives was held at least its draw: never before delay − jitter (the sender stamps
      // before it sends, on the same clock), on average no less than the draws (each frame's draw is
      // the same random variable, so the draws of all frames stand for the probes': ± 1.5 ms is
      // 3 sd of the two means' difference), with their spread. How much later than the draws it
      // arrives is the machine's load, measured, not judged here (bench/loss.ts reports the wire's
      // lateness).
      expect(delay.min).toBeGreaterThanOrEqual(DELAY_MS - JITTER_MS - 0.5);
      expect(delay.mean).toBeGreaterThan(drawMean - 1.5);
      expect(delay.p50).toBeGreaterThan(DELAY_MS - 4);
      expect(delay.max - delay.min).toBeGreaterThan(JITTER_MS);
    }
    // Counted from this test's start: a frame written while the namespaces were still coming up may fail, and is not this test's.
    for (const key of ['laptopToPhone', 'phoneToLaptop'] as const) {
      const [was, now] = [wireBefore[key], wire[key]];
      expect(now.forwarded - was.forwarded).toBeGreaterThanOrEqual(120);
      const lostOnWire = (d: typeof now) => d.lossDropped + d.queueDropped + d.writeFailed;
      expect(lostOnWire(now) - lostOnWire(was), JSON.stringify({ was, now })).toBe(0);
    }
  });

  it('drops about 5 % of the UDP arriving at each host with nftables, and counts it', async () => {
    const lan = net();
    const before = lan.udpLoss();
    const wireBefore = await lan.wireStats();
    const count = 2_000;
    // 2000 datagrams at 5 %: 100 ± 10 lost (1 sd); 2–9 % is more than 6 sd either way.
    const [there, back] = await Promise.all([
      lan.probeUdp({ from: 'laptop', count, intervalMs: 1 }),
      lan.probeUdp({ from: 'phone', count, intervalMs: 1, port: 9_998 }),
    ]);
    const after = lan.udpLoss();
    const wire = await lan.wireStats();
    for (const [label, probe, host] of [
      ['laptop → phone', there, 'phone'],
      ['phone → laptop', back, 'laptop'],
    ] as const) {
      // Lost on the LAN: not counting those the receiving host dropped because the receiver
      // process was too slow to read them (its socket buffer overflowed: a busy machine).
      const lost = probe.sent - probe.received - probe.bufferDropped;
      const dropped = after[host].dropped - before[host].dropped;
      const seen = after[host].seen - before[host].seen;
      const delay = summarizeMs(probe.oneWayMs);
      console.log(
        `${label}: ${lost} of ${probe.sent} lost (${fixed((100 * lost) / probe.sent)} %), ${probe.bufferDropped} more ` +
          `dropped by a full socket buffer; nft on the ${host} dropped ` +
          `${dropped} of ${seen} UDP (${fixed((100 * dropped) / seen)} %); dense one way (1 ms apart, FIFO): ` +
          `mean ${fixed(delay.mean)}, p50 ${fixed(delay.p50)}, p99 ${fixed(delay.p99)} ms`,
      );
      expect(probe.sent).toBe(count);
      expect(probe.duplicates).toBe(0);
      expect(probe.reordered).toBe(0);
      expect(lost).toBeGreaterThanOrEqual(0.02 * count);
      expect(lost).toBeLessThanOrEqual(0.09 * count);
      // Every probe lost was dropped by nft (the wire dropped nothing); nft also saw the
      // warm-up datagrams and anything else on UDP, so a little more.
      expect(dropped).toBeGreaterThanOrEqual(lost);
      expect(dropped).toBeLessThanOrEqual(lost + 5);
      expect(seen).toBeGreaterThanOrEqual(count);
    }
    for (const key of ['laptopToPhone', 'phoneToLaptop'] as const) {
      const [was, now] = [wireBefore[key], wire[key]];
      const lostOnWire = (d: typeof now) => d.lossDropped + d.queueDropped + d.writeFailed;
      expect(lostOnWire(now) - lostOnWire(was), JSON.stringify({ was, now })).toBe(0);
    }
  });

  it('links a DAW on the laptop and a phone P2P across it (the laptop’s STUN server, multicast blocked)', async () => {
    const lan = net().lan;
    await lan.startServer({ stun: true });
    const { daw, code, joinUrl } = await lan.openDaw();
    expect(joinUrl).toBe(`http://${LAPTOP_IP}:${PORT}/join/${code}`);
    const joinedAt = performance.now();
    const phone: Page = await lan.joinPhone(joinUrl, 'Pia');
    await waitForP2p(phone);
    const linkMs = performance.now() - joinedAt;
    await expect.poll(() => memberRow(daw, 'Pia').getAttribute('data-transport'), WAIT).toBe('p2p');
    await touch(phone, [await padPoint(phone, 4)]);
    await expect.poll(async () => (await hitLog(daw)).map((hit) => [hit.pad, hit.via]), WAIT).toEqual([[4, 'p2p']]);
    const loss = net().udpLoss();
    console.log(
      `faulty LAN: P2P ${linkMs.toFixed(0)} ms after the phone joined; nft dropped ` +
        `${loss.laptop.dropped}/${loss.laptop.seen} UDP on the laptop, ${loss.phone.dropped}/${loss.phone.seen} on the phone so far`,
    );
  });

  it('drops frames itself when asked, and caps its queue (counted)', async () => {
    const lossy = await FaultyLan.create({ delayMs: 0, jitterMs: 0, wireLossPercent: 10, browsers: false, seed: 7 });
    try {
      const probe = await lossy.probeUdp({ from: 'laptop', count: 1_000, intervalMs: 1 });
      const wire = await lossy.wireStats();
      const lost = probe.sent - probe.received - probe.bufferDropped; // see the test above
      console.log(`wire loss 10 %: ${lost} of ${probe.sent} lost; wire dropped ${wire.laptopToPhone.lossDropped}`);
      // 1000 at 10 %: 100 ± 9.5; 5–16 % is more than 5 sd either way.
      expect(lost).toBeGreaterThanOrEqual(50);
      expect(lost).toBeLessThanOrEqual(160);
      expect(wire.laptopToPhone.lossDropped).toBeGreaterThanOrEqual(lost);
      expect(lossy.udpLoss().phone).toEqual({ seen: 0, dropped: 0, percent: 0 });
    } finally {
      await lossy.close();
    }
    const capped = await FaultyLan.create({ delayMs: 200, jitterMs: 0, queueCap: 16, browsers: false });
    try {
      // 300 datagrams within ~30 ms into a wire that holds each for 200 ms and at most 16 at a time.
      const probe = await capped.probeUdp({ from: 'laptop', count: 300, intervalMs: 0.1 });
      const wire = await capped.wireStats();
      console.log(
        `queue cap 16: ${probe.received} of ${probe.sent} arrived; wire max queued ${wire.laptopToPhone.maxQueued}, ` +
          `dropped ${wire.laptopToPhone.queueDropped} over the cap`,
      );
      expect(wire.laptopToPhone.maxQueued).toBe(16);
      expect(wire.laptopToPhone.queueDropped).toBeGreaterThanOrEqual(probe.sent - probe.received);
      expect(probe.received).toBeLessThan(probe.sent / 2);
    } finally {
      await capped.close();
    }
  });

  it('refuses bad arguments with a clear message', () => {
    const python = ensurePython();
    const ends = {
      laptop: { netns: '/proc/self/ns/net', dev: 'wire0' },
      phone: { netns: '/proc/self/ns/net', dev: 'wire1' },
    };
    const run = (args: string[]) => spawnSync(python, args, { encoding: 'utf8', timeout: 30_000 });
    for (const [options, message] of [
      [{ delayMs: 5, jitterMs: 10 }, '--jitter-ms (10) must not exceed --delay-ms (5)'],
      [{ delayMs: -1, jitterMs: 0 }, '--delay-ms must be 0-10000, got -1'],
      [{ delayMs: 20, jitterMs: 10, wireLossPercent: 150 }, '--loss-percent must be 0-100, got 150'],
      [{ delayMs: 20, jitterMs: 10, queueCap: 0 }, '--queue-cap must be 1-1000000, got 0'],
      [{ delayMs: Number.NaN, jitterMs: 0 }, '--delay-ms must be a finite number'],
    ] as const) {
      const result = run(tapWireArgs(ends, options));
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    }
    const tooLong = run(
      tapWireArgs(
        { ...ends, phone: { netns: ends.phone.netns, dev: 'a-name-far-too-long' } },
        {
          delayMs: 0,
          jitterMs: 0,
        },
      ),
    );
    expect(tooLong.status).toBe(2);
    expect(tooLong.stderr).toContain('--dev-b must be an interface name of 1-15 characters');
    const missing = run([TAP_WIRE, '--dev-a', 'x']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('the following arguments are required: --netns-a, --netns-b, --dev-b');
    const nowhere = run(
      tapWireArgs({ ...ends, laptop: { netns: '/nonexistent/ns', dev: 'wire0' } }, { delayMs: 0, jitterMs: 0 }),
    );
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toContain('tap-wire: cannot open network namespace /nonexistent/ns');
  });
});
