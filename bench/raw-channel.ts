/**
 * The baseline of bench/hit-path.ts: a bare RTCDataChannel ({ ordered: false, maxRetransmits: 0 },
 * as padmesh's), set up by the driver (SDP through `page.evaluate`, no trickle), carrying
 * 22-byte packets (the size of a one-hit padmesh HIT packet) at a steady rate on the same
 * self-correcting schedule as tests/helpers/jam.ts's tapRhythm. The sender stamps its wall
 * clock (`performance.timeOrigin + performance.now()`) right before `send`; the receiver reads
 * its own first thing in `onmessage` and keeps arrival − stamp in a Float64Array.
 *
 * Each function below runs in a page (`page.evaluate`): self-contained, state on `window`.
 * The benchmark injects the sender into the phone pages and the receiver into the DAW page,
 * so raw and padmesh run in the same renderer processes, origins and timer resolution, and
 * only the code on the path differs.
 */
import type { Page } from 'playwright-core';
import { shimNames } from './browser-common.ts';

interface RawReceiver {
  pcs: RTCPeerConnection[];
  open: boolean[];
  count: number;
  delay: Float64Array;
  peer: Uint8Array;
  seq: Float64Array;
}

interface RawSender {
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
}

type RawWindow = Window & { __rawRx?: RawReceiver; __rawTx?: RawSender; __gathered?: unknown };

/** Page side: waits (at most 5 s) for ICE gathering to end, then returns the local SDP. */
async function gathered(pc: RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  return pc.localDescription?.sdp ?? '';
}

export async function installReceiver(page: Page, capacity: number): Promise<void> {
  await shimNames(page);
  await page.evaluate((capacity) => {
    (window as RawWindow).__rawRx = {
      pcs: [],
      open: [],
      count: 0,
      delay: new Float64Array(capacity),
      peer: new Uint8Array(capacity),
      seq: new Float64Array(capacity),
    };
  }, capacity);
}

/** Gives the page the helper above (as `__gathered`). */
async function prepare(page: Page): Promise<void> {
  await shimNames(page);
  await page.evaluate(`window.__gathered = ${gathered.toString()};`);
}

/** Sender page: a connection and its channel; returns the offer (all candidates in it). */
async function offer(page: Page): Promise<string> {
  await prepare(page);
  return page.evaluate(async () => {
    const w = window as RawWindow;
    const pc = new RTCPeerConnection({ iceServers: [] });
    const channel = pc.createDataChannel('raw', { ordered: false, maxRetransmits: 0 });
    w.__rawTx = { pc, channel };
    await pc.setLocalDescription(await pc.createOffer());
    return (w.__gathered as typeof gathered)(pc);
  });
}

/** Receiver page: answers sender `index`'s offer (a page's, or a Node sender's: bench/node-phones.ts). */
export async function answer(page: Page, index: number, sdp: string): Promise<string> {
  await prepare(page);
  return page.evaluate(
    async ({ index, sdp }) => {
      const w = window as RawWindow;
      const rx = w.__rawRx;
      if (!rx) throw new Error('no raw receiver');
      const pc = new RTCPeerConnection({ iceServers: [] });
      rx.pcs[index] = pc;
      rx.open[index] = false;
      pc.ondatachannel = ({ channel }) => {
        channel.binaryType = 'arraybuffer';
        channel.onopen = () => {
          rx.open[index] = true;
        };
        if (channel.readyState === 'open') rx.open[index] = true;
        channel.onmessage = (event: MessageEvent<ArrayBuffer>) => {
          const now = performance.timeOrigin + performance.now(); // first thing, as padmesh's arrivedAt
          const i = rx.count;
          if (i >= rx.delay.length) return;
          const view = new DataView(event.data);
          rx.delay[i] = now - view.getFloat64(14, true);
          rx.seq[i] = view.getUint32(8, true);
          rx.peer[i] = index;
          rx.count = i + 1;
        };
      };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return (w.__gathered as typeof gathered)(pc);
    },
    { index, sdp },
  );
}

/** Connects `senders[i]` to the receiver page as its peer `i`; waits (bounded) for every channel to open. */
export async function connectRaw(receiver: Page, senders: Page[]): Promise<void> {
  for (const [index, sender] of senders.entries()) {
    const sdp = await offer(sender);
    const reply = await answer(receiver, index, sdp);
    await sender.evaluate(async (sdp) => {
      const tx = (window as RawWindow).__rawTx;
      if (!tx) throw new Error('no raw sender');
      await tx.pc.setRemoteDescription({ type: 'answer', sdp });
    }, reply);
    await sender.waitForFunction(() => (window as RawWindow).__rawTx?.channel.readyState === 'open', null, {
      timeout: 10_000,
    });
    await receiver.waitForFunction((index) => (window as RawWindow).__rawRx?.open[index] === true, index, {
      timeout: 10_000,
    });
  }
}

/** Sends `count` packets, `intervalMs` apart on a self-correcting schedule; resolves with the number sent. */
export function sendRaw(sender: Page, options: { count: number; intervalMs: number }): Promise<number> {
  return sender.evaluate(
    ({ count, intervalMs }) =>
      new Promise<number>((resolve, reject) => {
        const tx = (window as RawWindow).__rawTx;
        if (!tx) return reject(new Error('no raw sender'));
        const { channel } = tx;
        const buffer = new ArrayBuffer(22);
        const view = new DataView(buffer);
        view.setUint8(0, 1);
        view.setUint8(1, 1);
        const start = performance.now();
        let sent = 0;
        const tick = () => {
          const due = Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1);
          for (; sent < due; sent++) {
            view.setUint32(8, sent, true);
            view.setFloat64(14, performance.timeOrigin + performance.now(), true);
            channel.send(buffer);
          }
          if (sent >= count) resolve(sent);
          else setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
        };
        tick();
      }),
    options,
  );
}

export async function resetReceiver(receiver: Page): Promise<void> {
  await receiver.evaluate(() => {
    const rx = (window as RawWindow).__rawRx;
    if (rx) rx.count = 0;
  });
}

export const receivedCount = (receiver: Page): Promise<number> =>
  receiver.evaluate(() => (window as RawWindow).__rawRx?.count ?? 0);

export interface RawArrivals {
  delay: number[];
  peer: number[];
  seq: number[];
}

export function readReceiver(receiver: Page): Promise<RawArrivals> {
  return receiver.evaluate(() => {
    const rx = (window as RawWindow).__rawRx;
    if (!rx) return { delay: [], peer: [], seq: [] };
    const n = rx.count;
    return {
      delay: Array.from(rx.delay.subarray(0, n)),
      peer: Array.from(rx.peer.subarray(0, n)),
      seq: Array.from(rx.seq.subarray(0, n)),
    };
  });
}

export async function closeRaw(pages: Page[]): Promise<void> {
  for (const page of pages) {
    await page
      .evaluate(() => {
        const w = window as RawWindow;
        w.__rawTx?.pc.close();
        for (const pc of w.__rawRx?.pcs ?? []) pc.close();
      })
      .catch(() => {});
  }
}
