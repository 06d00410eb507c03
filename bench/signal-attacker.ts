/**
 * The flood of bench/signal-flood.ts, in a process of its own so that its sending never holds
 * up the event loop that times the honest messages. It opens a room of its own (its DAW from
 * FLOOD_DAW_ADDRESS) and joins it with `sockets` controllers, all from one address
 * (FLOOD_ADDRESS), then, told "start", has each send `frameBytes`-byte relays to its DAW as
 * fast as its socket takes them: while the socket's unsent data is under HIGH_WATER_BYTES.
 * The frame is built and masked once (a fixed, non-zero mask) and written to the TCP socket
 * as it is, again and again: the cheapest flood a client can send, and the dearest to take in
 * (a server unmasks every frame; `ws` skips that only for an all-zero mask). A controller the server
 * closes joins again after REJOIN_DELAY_MS, as an attacker would. Told "stop", it answers with
 * its FloodReport; it stops by itself after MAX_FLOOD_MS, and exits when its parent goes. It
 * tells its parent `{ ready: n }` once n attacking sockets are in.
 *
 *   node --import tsx bench/signal-attacker.ts PORT DIALECT FRAME_BYTES SOCKETS
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { FLOOD_ADDRESS, FLOOD_DAW_ADDRESS, type FloodReport } from './signal-flood.ts';
import { type Client, type Dialect, dialects, joinOne, sleep } from './signal-load.ts';

const HIGH_WATER_BYTES = 1024 * 1024;
const REJOIN_DELAY_MS = 100;
const MAX_FLOOD_MS = 60_000;
const MAX_REJOINS = 1000;
/** Seat numbers (peerjs ids) far from the load generator's. */
const FIRST_SEAT = 1_000_000;

const [portArg, dialectArg, frameBytesArg, socketsArg] = process.argv.slice(2);
const port = Number(portArg);
const dialect: Dialect | undefined = dialects[dialectArg as keyof typeof dialects];
const frameBytes = Number(frameBytesArg);
const socketCount = Number(socketsArg);
if (!dialect || !(port > 0) || !(frameBytes > 0) || !(socketCount > 0)) {
  console.error('usage: signal-attacker.ts PORT DIALECT FRAME_BYTES SOCKETS');
  process.exit(2);
}
// A child of the benchmark: it goes when the benchmark goes.
process.on('disconnect', () => process.exit(0));

const report: FloodReport = {
  floodMs: 0,
  framesSent: 0,
  bytesSent: 0,
  framesDelivered: 0,
  bytesDelivered: 0,
  closedByServer: 0,
  rejoins: 0,
  answers: 0,
};
let seat = FIRST_SEAT;
let flooding = false;
let startedAt = 0;

const daw = await joinOne(
  port,
  dialect,
  { role: 'daw', room: undefined, n: seat++ },
  { localAddress: FLOOD_DAW_ADDRESS },
);
daw.ws.on('message', (raw: Buffer) => {
  if (raw.length < 1024) return; // pings, notices: not the flood
  report.framesDelivered += 1;
  report.bytesDelivered += raw.length;
});

/** One relay of exactly `frameBytes` bytes of JSON to the DAW, as a whole masked WebSocket frame (FIN, text), made once. */
const frame = (() => {
  const [prefix, suffix] = dialect.relayFrame(daw.peerId, '');
  const bare = `${prefix}0${suffix}`;
  const [paddedPrefix, paddedSuffix] = dialect.relayFrame(daw.peerId, 'x'.repeat(frameBytes - bare.length));
  const payload = Buffer.from(`${paddedPrefix}0${paddedSuffix}`);
  if (payload.length !== frameBytes) throw new Error(`flood relay is ${payload.length} bytes, not ${frameBytes}`);
  const mask = [0x5a, 0xa5, 0x3c, 0xc3];
  const lengthBytes = payload.length < 126 ? 0 : payload.length < 65_536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = 0x81;
  if (lengthBytes === 0) header[1] = 0x80 | payload.length;
  else if (lengthBytes === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  header.set(mask, 2 + lengthBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([header, payload]);
})();

/** The TCP socket under a `ws` client (a private field of ws): the flood is written there, whole frames at a time. */
const tcpOf = (ws: WebSocket): Socket | undefined => (ws as unknown as { _socket?: Socket })._socket;
const attackers: (Client | null)[] = [];

async function attacker(index: number): Promise<void> {
  while (attackers[index] === null || attackers[index] === undefined) {
    try {
      const client = await joinOne(
        port,
        dialect as Dialect,
        { role: 'controller', room: daw.room, n: seat++ },
        { localAddress: FLOOD_ADDRESS },
      );
      client.ws.on('message', () => {
        report.answers += 1;
      });
      client.ws.once('close', () => {
        attackers[index] = null;
        if (!flooding) return;
        report.closedByServer += 1;
        if (report.rejoins >= MAX_REJOINS) return;
        report.rejoins += 1;
        setTimeout(() => void attacker(index), REJOIN_DELAY_MS);
      });
      attackers[index] = client;
    } catch {
      if (!flooding || report.rejoins >= MAX_REJOINS) return;
      report.rejoins += 1;
      await sleep(REJOIN_DELAY_MS);
    }
  }
}

await Promise.all(Array.from({ length: socketCount }, (_, index) => attacker(index)));

/** Writes until every socket's unsent data is over HIGH_WATER_BYTES, then looks again in 1 ms; yields between rounds. */
function pump(): void {
  if (!flooding) return;
  if (performance.now() - startedAt > MAX_FLOOD_MS) {
    flooding = false;
    return;
  }
  let sentNow = 0;
  for (const client of attackers) {
    const tcp = client?.ws.readyState === WebSocket.OPEN ? tcpOf(client.ws) : undefined;
    for (let burst = 0; tcp && !tcp.destroyed && tcp.writableLength < HIGH_WATER_BYTES && burst < 16; burst++) {
      tcp.write(frame);
      sentNow += 1;
    }
  }
  report.framesSent += sentNow;
  report.bytesSent += sentNow * frameBytes;
  if (sentNow > 0) setImmediate(pump);
  else setTimeout(pump, 1);
}

process.on('message', (message) => {
  if (message === 'start') {
    flooding = true;
    startedAt = performance.now();
    pump();
    process.send?.('started');
  } else if (message === 'stop') {
    flooding = false;
    report.floodMs = performance.now() - startedAt;
    process.send?.(report);
  }
});
process.send?.({ ready: attackers.filter((client) => client).length });
