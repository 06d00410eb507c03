/**
 * A hostile controller for the browser tests and benchmarks: a phone page init script that
 * catches the page's own `hits` data channel and, once it is open, sends junk on it as fast
 * as the channel takes it, for a bounded time. Everything else on the page is the real
 * controller (it joins, links P2P, retries when its channel is closed), as a modified phone
 * would be.
 */
import type { Page } from 'playwright-core';

export interface FloodOptions {
  /** Start by itself once the channel opens (a test), or wait for `startFlood()` (a benchmark). */
  auto: boolean;
  /** How long one flood lasts, ms (bounded: every loop in a test is). */
  ms: number;
  /** Packet sizes, cycled: 1 byte is the cheapest packet to send and still costs the DAW a message event. */
  sizes?: number[];
}

export interface FloodResult {
  /** Packets handed to the channel. */
  sent: number;
  /** How the flood ended: `time` (its time was up) or the channel's readyState when it stopped taking packets. */
  ended: string;
  /** ms from its start to its end. */
  ms: number;
}

/** The init script (page side state on `window.__flood`). */
export function floodScript({ auto, ms, sizes = [1] }: FloodOptions): string {
  return `{
  const state = { channel: null, runs: [], running: null };
  window.__flood = state;
  const sizes = ${JSON.stringify(sizes.map((size) => Math.max(0, Math.floor(size))))};
  // Junk that is no packet: a 1-byte packet is TOO_SHORT; longer ones start with kind 0xEE (UNKNOWN_KIND).
  const packets = sizes.map((size) => { const p = new Uint8Array(size); p.fill(0xee); return p; });
  const HIGH = 1 << 20;
  state.start = (floodMs) => {
    if (state.running) return state.running;
    const channel = state.channel;
    state.running = new Promise((resolve) => {
      const started = performance.now();
      const until = started + floodMs;
      let sent = 0;
      const done = (ended) => {
        state.running = null;
        const run = { sent, ended, ms: performance.now() - started };
        state.runs.push(run);
        resolve(run);
      };
      const pump = () => {
        try {
          for (;;) {
            if (channel.readyState !== 'open') return done(channel.readyState);
            if (performance.now() >= until) return done('time');
            if (channel.bufferedAmount >= HIGH) break;
            for (let i = 0; i < 64; i++) channel.send(packets[sent++ % packets.length]);
          }
        } catch {
          return done(channel.readyState);
        }
        setTimeout(pump, 0);
      };
      if (!channel) return done('none');
      pump();
    });
    return state.running;
  };
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...args) {
    const channel = create.apply(this, args);
    if (channel.label === 'hits') {
      channel.addEventListener('open', () => {
        state.channel = channel;
        if (${auto ? 'true' : 'false'}) state.start(${Number(ms)});
      });
    }
    return channel;
  };
}`;
}

/** Starts a flood on the phone's open channel (waits for it to end) and says how it went. */
export function startFlood(phone: Page, ms: number): Promise<FloodResult> {
  return phone.evaluate(
    (floodMs) => (window as unknown as { __flood: { start(ms: number): Promise<FloodResult> } }).__flood.start(floodMs),
    ms,
  );
}

/** Every flood the phone ran so far, oldest first. */
export function floodRuns(phone: Page): Promise<FloodResult[]> {
  return phone.evaluate(() => (window as unknown as { __flood: { runs: FloodResult[] } }).__flood.runs);
}
