/**
 * The DAW's connections, made ahead of need. Making an RTCPeerConnection is mostly the browser's
 * work on its WebRTC threads, and the constructor waits for it: 15–45 ms of the DAW's main thread
 * while a phone loads beside it on the benchmark's 2-core machine (`npx tsx bench/hit-path.ts
 * --startup-only 3 --startup-profile --no-build`, its `RTCPeerConnection` line), right in the middle of
 * a phone's way to its first P2P hit: the DAW makes its connection when the phone's offer comes in. So
 * the DAW keeps one spare, made in a quiet moment for the room's ICE servers, and simple-peer's next
 * connection with that configuration is the spare; another is made after it.
 */
import Peer from '@thaunknown/simple-peer/lite.js';
import type { IceServer } from '../../signal/protocol.ts';
import { toRtcIceServer } from './peer-channel.ts';
import { usePeerConnectionClass } from './webrtc-globals.ts';

/**
 * The next spare waits until the connection that took the last one is set up (connected, or failed; at
 * most SETUP_MS), then SETTLE_MS more, then for an idle moment (at most IDLE_WAIT_MS). Made at once, it
 * blocked the DAW (15–45 ms, above) just as that connection's channel opened and its first hit came in.
 * Not later either: a second after, the benchmark's phones (one every ~0.8 s) mostly found no spare
 * ready (docs/architecture.md, "A fourth pass").
 */
const SETUP_MS = 3_000;
const SETTLE_MS = 300;
const IDLE_WAIT_MS = 1_000;

const Native = globalThis.RTCPeerConnection as typeof RTCPeerConnection | undefined;
let spare: { connection: RTCPeerConnection; key: string } | null = null;
let planned: { key: string; cancel(): void } | null = null;

/** Keeps one connection ready for the room's ICE servers (every welcome names them). No WebRTC here: nothing. */
export function keepSpareConnection(iceServers: readonly IceServer[]): void {
  if (!Native) return;
  usePeerConnectionClass(SparingPeerConnection as unknown as typeof RTCPeerConnection);
  // The configuration exactly as simple-peer makes it from PeerChannel's (lite.js: Object.assign over Peer.config).
  planSpare(Object.assign({}, Peer.config, { iceServers: iceServers.map(toRtcIceServer) }));
}

/** simple-peer's `new RTCPeerConnection(config)`: the spare, if it was made for `config`; the next is planned. */
function SparingPeerConnection(config: RTCConfiguration): RTCPeerConnection {
  const key = JSON.stringify(config);
  const ready = spare;
  spare = null;
  if (ready && ready.key !== key) ready.connection.close(); // made for servers the room no longer names
  const connection = ready?.key === key ? ready.connection : new (Native as typeof RTCPeerConnection)(config);
  const next = () => {
    clearTimeout(fallback);
    connection.removeEventListener('connectionstatechange', settled);
    setTimeout(() => planSpare(config), SETTLE_MS);
  };
  const settled = () => {
    if (connection.connectionState !== 'new' && connection.connectionState !== 'connecting') next();
  };
  const fallback = setTimeout(next, SETUP_MS);
  connection.addEventListener('connectionstatechange', settled);
  return connection;
}

/** A spare for `config`, made in the next idle moment (unless one is made or planned already). */
function planSpare(config: RTCConfiguration): void {
  const key = JSON.stringify(config);
  if (spare?.key === key || planned?.key === key) return;
  planned?.cancel();
  const make = () => {
    planned = null;
    spare?.connection.close();
    spare = { connection: new (Native as typeof RTCPeerConnection)(config), key };
  };
  // Safari has no requestIdleCallback: a timer there.
  if (typeof requestIdleCallback === 'function') {
    const id = requestIdleCallback(make, { timeout: IDLE_WAIT_MS });
    planned = { key, cancel: () => cancelIdleCallback(id) };
  } else {
    const timer = setTimeout(make, IDLE_WAIT_MS);
    planned = { key, cancel: () => clearTimeout(timer) };
  }
}
