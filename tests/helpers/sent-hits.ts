/**
 * What a phone page really sent: an init script (a string, for Chromium and Firefox pages alike)
 * keeps a copy of every HIT packet the page puts on a data channel and every relay message it
 * puts on the signaling socket; `distinctSentHits` decodes them with the wire's own readers and
 * counts each hit once (every hit goes out three times: hit-sender.ts's redundancy). So a test
 * can check, at the phone, that each tap left it as one hit, and, at the DAW, that each was
 * played once.
 */
import { PacketKind, readPacket, readRelay } from '../../client/net/hits.ts';

/** Run in a phone page before its own code. */
export const RECORD_SENT_HITS = `{
  const sent = [];
  Object.defineProperty(window, '__padmeshSent', { value: sent });
  const channelSend = RTCDataChannel?.prototype.send;
  if (channelSend) {
    RTCDataChannel.prototype.send = function (data) {
      if (ArrayBuffer.isView(data) && new Uint8Array(data.buffer, data.byteOffset, 1)[0] === ${PacketKind.HIT}) {
        sent.push(Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
      } else if (data instanceof ArrayBuffer && new Uint8Array(data)[0] === ${PacketKind.HIT}) {
        sent.push(Array.from(new Uint8Array(data)));
      }
      return channelSend.call(this, data);
    };
  }
  const socketSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.startsWith('{"type":"relay"')) sent.push(data);
    return socketSend.call(this, data);
  };
}`;

/** The page's records, as the init script kept them. */
export type SentRecords = (number[] | string)[];

/** In the page: its records (read them with the driver's evaluate). */
export const readSentRecords = (): SentRecords => (window as unknown as { __padmeshSent: SentRecords }).__padmeshSent;

/** The hits a phone sent, each once, as `epoch:seq` → pad. */
export function distinctSentHits(records: SentRecords): Map<string, number> {
  const hits = new Map<string, number>();
  const hit = (epoch: number, seq: number, pad: number) => hits.set(`${epoch}:${seq}`, pad);
  const ignore = () => {};
  for (const record of records) {
    if (typeof record === 'string') {
      const data = (JSON.parse(record) as { data: unknown }).data;
      const error = readRelay(data, { hit, report: ignore, ping: ignore, pong: ignore, tempo: ignore });
      if (error) throw new Error(`a relay message the phone sent does not decode (${error}): ${record}`);
    } else {
      const error = readPacket(new Uint8Array(record), {
        hit,
        ping: ignore,
        pong: ignore,
        timing: ignore,
        tempo: ignore,
      });
      if (error) throw new Error(`a packet the phone sent does not decode (${error})`);
    }
  }
  return hits;
}
