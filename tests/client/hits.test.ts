import { describe, expect, it } from 'vitest';
import {
  HIT_HEADER_BYTES,
  HIT_RECORD_BYTES,
  MAX_HITS_PER_PACKET,
  newEpoch,
  type PacketVisitor,
  PacketWriter,
  PING_BYTES,
  PONG_BYTES,
  readPacket,
  readRelay,
  relayHit,
} from '../../client/net/hits.ts';

type Seen = (['hit', number, number, number, number, number] | ['ping', number, number] | ['pong', number, number])[];

function recorder(): { seen: Seen; visitor: PacketVisitor } {
  const seen: Seen = [];
  return {
    seen,
    visitor: {
      hit: (...args) => seen.push(['hit', ...args]),
      ping: (...args) => seen.push(['ping', ...args]),
      pong: (...args) => seen.push(['pong', ...args]),
    },
  };
}

/** A copy, as the receiving end gets it (its own ArrayBuffer). */
const arrive = (view: Uint8Array): ArrayBuffer => view.slice().buffer;

describe('binary peer packets', () => {
  const sentAt = 1_763_790_000_123.456;

  it('round-trips a one-hit packet of 22 bytes', () => {
    const writer = new PacketWriter(0xdeadbeef);
    const packet = writer.hit(7, 15, 127, sentAt);
    expect(packet.byteLength).toBe(HIT_HEADER_BYTES + HIT_RECORD_BYTES);
    expect(packet.byteLength).toBe(22);
    const { seen, visitor } = recorder();
    expect(readPacket(arrive(packet), visitor)).toBeNull();
    expect(seen).toEqual([['hit', 0xdeadbeef, 7, 15, 127, sentAt]]);
  });

  it('carries several records (redundancy) in order', () => {
    const writer = new PacketWriter(42);
    writer.record(0, 10, 1, 100, sentAt);
    writer.record(1, 9, 2, 90, sentAt - 5);
    writer.record(2, 8, 3, 80, sentAt - 10);
    const { seen, visitor } = recorder();
    expect(readPacket(arrive(writer.hits(3)), visitor)).toBeNull();
    expect(seen).toEqual([
      ['hit', 42, 10, 1, 100, sentAt],
      ['hit', 42, 9, 2, 90, sentAt - 5],
      ['hit', 42, 8, 3, 80, sentAt - 10],
    ]);
  });

  it('reuses its buffer: the view it returns is rewritten by the next hit', () => {
    const writer = new PacketWriter(1);
    const first = writer.hit(1, 1, 1, 1);
    const second = writer.hit(2, 2, 2, 2);
    expect(second.buffer).toBe(first.buffer);
  });

  it('keeps seq as an unsigned 32-bit number', () => {
    const writer = new PacketWriter(1);
    const { seen, visitor } = recorder();
    readPacket(arrive(writer.hit(0xffffffff, 0, 1, 0)), visitor);
    expect(seen[0]?.[2]).toBe(0xffffffff);
  });

  it('round-trips ping and pong', () => {
    const writer = new PacketWriter(0);
    const { seen, visitor } = recorder();
    const ping = writer.ping(123.25, 9);
    expect(ping.byteLength).toBe(PING_BYTES);
    expect(readPacket(arrive(ping), visitor)).toBeNull();
    const pong = writer.pong(123.25, sentAt);
    expect(pong.byteLength).toBe(PONG_BYTES);
    expect(readPacket(arrive(pong), visitor)).toBeNull();
    expect(seen).toEqual([
      ['ping', 123.25, 9],
      ['pong', 123.25, sentAt],
    ]);
  });

  it('reads a view into a larger buffer (how Node delivers)', () => {
    const writer = new PacketWriter(5);
    const packet = writer.hit(3, 4, 5, 6);
    const padded = new Uint8Array(packet.byteLength + 10);
    padded.set(packet, 5);
    const { seen, visitor } = recorder();
    expect(readPacket(padded.subarray(5, 5 + packet.byteLength), visitor)).toBeNull();
    expect(seen).toEqual([['hit', 5, 3, 4, 5, 6]]);
  });

  it('refuses record counts and indexes it cannot hold', () => {
    const writer = new PacketWriter(0);
    expect(() => writer.hits(0)).toThrow(RangeError);
    expect(() => writer.hits(MAX_HITS_PER_PACKET + 1)).toThrow(RangeError);
    expect(() => writer.record(MAX_HITS_PER_PACKET, 0, 0, 1, 0)).toThrow(RangeError);
  });

  describe('bad packets are refused with a reason and visit nothing', () => {
    const valid = () => new PacketWriter(1).hit(1, 2, 3, 4).slice();
    const cases: [string, () => Uint8Array, string][] = [
      ['empty', () => new Uint8Array(0), 'TOO_SHORT'],
      ['unknown kind', () => Uint8Array.of(9, 0, 0, 0), 'UNKNOWN_KIND'],
      ['header cut short', () => valid().subarray(0, 5), 'TOO_SHORT'],
      ['zero records', () => Object.assign(valid(), { 1: 0 }), 'BAD_COUNT'],
      ['too many records', () => Object.assign(valid(), { 1: MAX_HITS_PER_PACKET + 1 }), 'BAD_COUNT'],
      ['count says 2, one record', () => Object.assign(valid(), { 1: 2 }), 'BAD_LENGTH'],
      ['trailing byte', () => Uint8Array.of(...valid(), 0), 'BAD_LENGTH'],
      ['pad 64', () => Object.assign(valid(), { 12: 64 }), 'BAD_FIELD'],
      ['velocity 0', () => Object.assign(valid(), { 13: 0 }), 'BAD_FIELD'],
      ['velocity 128', () => Object.assign(valid(), { 13: 128 }), 'BAD_FIELD'],
      [
        'sentAt NaN',
        () => {
          const bytes = valid();
          new DataView(bytes.buffer).setFloat64(14, Number.NaN, true);
          return bytes;
        },
        'BAD_FIELD',
      ],
      ['ping too short', () => new PacketWriter(0).ping(1, 0).slice(0, 12), 'BAD_LENGTH'],
      [
        'ping t Infinity',
        () => {
          const bytes = new PacketWriter(0).ping(1, 0).slice();
          new DataView(bytes.buffer).setFloat64(8, Number.POSITIVE_INFINITY, true);
          return bytes;
        },
        'BAD_FIELD',
      ],
      ['pong too long', () => Uint8Array.of(...new PacketWriter(0).pong(1, 2), 0), 'BAD_LENGTH'],
    ];
    it.each(cases)('%s', (_name, make, reason) => {
      const { seen, visitor } = recorder();
      expect(readPacket(arrive(make()), visitor)).toBe(reason);
      expect(seen).toEqual([]);
    });

    it('one bad record spoils the whole packet', () => {
      const writer = new PacketWriter(1);
      writer.record(0, 1, 1, 100, 0);
      writer.record(1, 2, 1, 0, 0); // velocity 0
      const { seen, visitor } = recorder();
      expect(readPacket(arrive(writer.hits(2)), visitor)).toBe('BAD_FIELD');
      expect(seen).toEqual([]);
    });
  });
});

describe('relayed hits (JSON)', () => {
  it('round-trips a hit through JSON', () => {
    const { seen, visitor } = recorder();
    const data = JSON.parse(JSON.stringify(relayHit(77, 3, 9, 64, 1000.5)));
    expect(readRelay(data, visitor, () => {})).toBeNull();
    expect(seen).toEqual([['hit', 77, 3, 9, 64, 1000.5]]);
  });

  it('reads a dropped-count report', () => {
    const reports: number[] = [];
    expect(readRelay({ d: 4 }, recorder().visitor, (dropped) => reports.push(dropped))).toBeNull();
    expect(reports).toEqual([4]);
  });

  const bad: [string, unknown, string][] = [
    ['null', null, 'BAD_FIELD'],
    ['a string', 'hit', 'BAD_FIELD'],
    ['neither h nor d', { x: 1 }, 'UNKNOWN_KIND'],
    ['h not an array', { h: 'x' }, 'BAD_LENGTH'],
    ['h too short', { h: [1, 2, 3, 4] }, 'BAD_LENGTH'],
    ['negative epoch', { h: [-1, 0, 0, 1, 0] }, 'BAD_FIELD'],
    ['fractional seq', { h: [1, 0.5, 0, 1, 0] }, 'BAD_FIELD'],
    ['pad as string', { h: [1, 0, '0', 1, 0] }, 'BAD_FIELD'],
    ['pad out of range', { h: [1, 0, 64, 1, 0] }, 'BAD_FIELD'],
    ['velocity out of range', { h: [1, 0, 0, 200, 0] }, 'BAD_FIELD'],
    ['sentAt missing', { h: [1, 0, 0, 1, null] }, 'BAD_FIELD'],
    ['negative report', { d: -3 }, 'BAD_FIELD'],
  ];
  it.each(bad)('refuses %s', (_name, data, reason) => {
    const { seen, visitor } = recorder();
    const reports: number[] = [];
    expect(readRelay(data, visitor, (dropped) => reports.push(dropped))).toBe(reason);
    expect(seen).toEqual([]);
    expect(reports).toEqual([]);
  });
});

it('makes a fresh random 32-bit epoch each time', () => {
  const epochs = new Set(Array.from({ length: 50 }, newEpoch));
  expect(epochs.size).toBe(50);
  for (const epoch of epochs) expect(epoch >>> 0).toBe(epoch);
});
