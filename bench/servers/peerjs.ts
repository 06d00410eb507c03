/**
 * peerjs-server (npm `peer`) as a benchmark contender: its stock PeerServer, as its CLI
 * would start it, on loopback. Its default concurrent_limit (5,000) would refuse the memory
 * phase, so it is lifted; everything else is left at its defaults (ws's own options: no
 * permessage-deflate, 100 MiB maxPayload; 90 s alive timeout).
 */
import type { AddressInfo } from 'node:net';
import { PeerServer } from 'peer';
import { serveBenchContender } from './contender.ts';

const server = PeerServer({ host: '127.0.0.1', port: 0, concurrent_limit: 20_000 }, (http) => {
  serveBenchContender((http.address() as AddressInfo).port);
});
// It re-emits socket errors (a client reset) on the app; unheard, an EventEmitter 'error' throws.
server.on('error', () => {});
