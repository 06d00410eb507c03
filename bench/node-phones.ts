/**
 * Phones that cost little: controllers run in this Node process instead of in Chromium pages,
 * so a benchmark of many phones measures the DAW page, not this machine running many phone
 * pages beside it.
 *
 * A NodePhone is padmesh's own controller, minus the page: the real signaling client
 * (client/net/signaling.ts, with `ws` as its WebSocket, as its unit tests run it) joins the
 * room through the real signal server with the controller's protocol, and the real
 * ControllerLink (client/net/controller-link.ts: the link machine, PeerChannel on simple-peer,
 * HitSender with its redundancy, the peer wire of client/net/hits.ts) carries the taps. Its
 * WebRTC is the one simple-peer uses in Node: webrtc-polyfill on node-datachannel
 * (libdatachannel), bound to 127.0.0.1 (a loopback-only namespace has no other address, and
 * libdatachannel offers loopback candidates only when bound to it). Only the wiring that
 * client/state/session.ts and client/views/ControllerPage.tsx do in the page (which member is
 * the DAW, which server messages go to the link) is repeated here.
 *
 * A NodeRawSender is the baseline's sender (bench/raw-channel.ts) on the same WebRTC stack: a
 * bare RTCDataChannel ({ordered: false, maxRetransmits: 0}) carrying 22-byte packets.
 */
import Peer from '@thaunknown/simple-peer/lite.js';
import { RTCPeerConnection } from 'webrtc-polyfill';
import { WebSocket } from 'ws';
import { ControllerLink } from '../client/net/controller-link.ts';
import { wallClock } from '../client/net/hits.ts';
import { HIT_CHANNEL } from '../client/net/peer-channel.ts';
import { createSignaling, type Signaling, type SocketLike } from '../client/net/signaling.ts';
import { type Member, SOCKET_PATH } from '../signal/protocol.ts';
import { waitUntil } from './browser-common.ts';

/** libdatachannel gathers a loopback candidate only when bound to loopback. Every Peer in this process. */
const BIND = { bindAddress: '127.0.0.1' };
(Peer as unknown as { config: Record<string, unknown> }).config = {
  ...(Peer as unknown as { config: Record<string, unknown> }).config,
  ...BIND,
};

/** One controller in Node, joined to `room` at `base` (http://host:port). */
export class NodePhone {
  readonly signaling: Signaling;
  readonly link: ControllerLink;
  #members: Member[] = [];
  #connected = false;

  constructor(base: string, room: string, name: string, deviceId: string) {
    let signaling: Signaling | undefined;
    this.link = new ControllerLink({
      iceServers: () => signaling?.welcome?.iceServers ?? [],
      sendSignal: (to, data) => signaling?.send({ type: 'signal', to, data }),
      sendRelay: (data, ref) =>
        signaling?.sendNow(ref === undefined ? { type: 'relay', data } : { type: 'relay', data, ref }) ?? false,
      onChange: () => {},
    });
    signaling = createSignaling({
      url: `${base.replace(/^http/, 'ws')}${SOCKET_PATH}`,
      join: { role: 'controller', room, deviceId, name },
      connect: (url) => new WebSocket(url) as unknown as SocketLike,
      onStatus: (status) => {
        this.#connected = status.kind === 'connected';
        this.link.setSocket(this.#connected);
        if (status.kind === 'ended') this.link.destroy();
        this.#updateDaw();
      },
      onMessage: (message) => {
        switch (message.type) {
          case 'welcome':
            this.#members = message.members;
            break;
          case 'member-joined':
            this.#members = [...this.#members.filter((m) => m.peerId !== message.member.peerId), message.member];
            break;
          case 'member-updated':
            this.#members = this.#members.map((m) => (m.peerId === message.member.peerId ? message.member : m));
            break;
          case 'member-left':
            this.#members = this.#members.filter((m) => m.peerId !== message.peerId);
            break;
          case 'signal':
            this.link.handleSignal(message.from, message.data);
            break;
          case 'relay':
            this.link.handleRelay(message.from, message.data);
            break;
          case 'error':
            if (message.ref !== undefined) this.link.relayRefused(message.ref);
            break;
        }
        this.#updateDaw();
      },
    });
    this.signaling = signaling;
  }

  /** As the page's effect does: the room's DAW, and whether an offer can reach it. */
  #updateDaw(): void {
    const daw = this.#members.find((m) => m.role === 'daw');
    this.link.setDaw(daw?.peerId ?? null, this.#connected && daw?.state === 'connected');
  }

  get p2p(): boolean {
    return this.link.transport === 'p2p';
  }

  /** A tap, as PadGrid's pointerdown handler makes it. */
  tap(pad: number, velocity = 100): void {
    this.link.hit(pad, velocity);
  }

  /** Leaves the room for good (the DAW forgets it at once). */
  leave(): void {
    this.link.destroy();
    this.signaling.leave();
  }
}

/** Joins `count` NodePhones one after another; resolves when every one is on P2P (bounded). */
export async function joinNodePhones(base: string, room: string, names: string[]): Promise<NodePhone[]> {
  const phones: NodePhone[] = [];
  for (const [i, name] of names.entries()) {
    const phone = new NodePhone(base, room, name, `node-phone-${process.pid}-${i}`);
    phones.push(phone);
    if (!(await waitUntil(() => phone.p2p, 20_000, 10))) {
      throw new Error(`Node phone ${name}: no P2P link within 20 s (transport ${phone.link.transport})`);
    }
  }
  return phones;
}

/** The raw baseline's sender: a bare data channel, same settings as padmesh's, offered with all candidates. */
export class NodeRawSender {
  readonly #pc = new RTCPeerConnection({ iceServers: [], ...BIND } as RTCConfiguration);
  readonly #channel = this.#pc.createDataChannel('raw', HIT_CHANNEL);
  readonly #packet = new DataView(new ArrayBuffer(22));

  constructor() {
    this.#packet.setUint8(0, 1);
    this.#packet.setUint8(1, 1);
  }

  /** The offer SDP, once ICE gathering is complete (at most 5 s). */
  async offer(): Promise<string> {
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    await waitUntil(() => this.#pc.iceGatheringState === 'complete', 5_000, 5);
    return this.#pc.localDescription?.sdp ?? '';
  }

  async answered(sdp: string): Promise<void> {
    await this.#pc.setRemoteDescription({ type: 'answer', sdp });
    if (!(await waitUntil(() => this.#channel.readyState === 'open', 10_000, 5))) {
      throw new Error('Node raw sender: the channel did not open within 10 s');
    }
  }

  /**
   * Packet `seq`, stamped with this process's wall clock right before `send` (bench/raw-channel.ts's
   * format); false if the channel would not take it (closed: the run counts it as lost).
   */
  send(seq: number): boolean {
    if (this.#channel.readyState !== 'open') return false;
    this.#packet.setUint32(8, seq, true);
    this.#packet.setFloat64(14, wallClock(), true);
    try {
      this.#channel.send(this.#packet.buffer as ArrayBuffer);
      return true;
    } catch {
      // libdatachannel throws on a channel that closed under it (its maximum message size reads 0 then).
      return false;
    }
  }

  get open(): boolean {
    return this.#channel.readyState === 'open';
  }

  close(): void {
    this.#channel.close();
    this.#pc.close();
  }
}

/**
 * Calls `act(sender, n)` for n = 0…count−1 for every sender, `intervalMs` apart on a
 * self-correcting schedule (a late timer catches up, so the rate holds), each sender's
 * schedule shifted by sender · intervalMs / senders: players who are not in lockstep.
 * Resolves with the number of calls once all are made.
 */
export function tapSchedule(
  senders: number,
  count: number,
  intervalMs: number,
  act: (sender: number, n: number) => void,
): Promise<number> {
  return Promise.all(
    Array.from(
      { length: senders },
      (_, sender) =>
        new Promise<number>((resolve) => {
          const start = performance.now() + (sender * intervalMs) / senders;
          let done = 0;
          const tick = () => {
            const due = Math.min(count, Math.floor((performance.now() - start) / intervalMs) + 1);
            for (; done < due; done++) act(sender, done);
            if (done >= count) resolve(done);
            else setTimeout(tick, Math.max(0, start + done * intervalMs - performance.now()));
          };
          setTimeout(tick, Math.max(0, start - performance.now()));
        }),
    ),
  ).then((counts) => counts.reduce((a, b) => a + b, 0));
}
