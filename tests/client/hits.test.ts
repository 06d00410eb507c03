import { describe, expect, it } from 'vitest';
import {
  HIT_HEADER_BYTES,
  HIT_RECORD_BYTES,
  MAX_BEATS_PER_BAR,
  MAX_BPM,
  MAX_HITS_PER_PACKET,
  MIN_BPM,
  newEpoch,
  type PacketVisitor,
  PacketWriter,
  PING_BYTES,
  PONG_BYTES,
  readPacket,
  readRelay,
  relayHit,
  relayTempo,
  TEMPO_BYTES,
  type Tempo,
  TIMING_BYTES,
  type TimingReport,
} from '../../client/net/hits.ts';

type Seen = (
  | ['hit', number, number, number, number, number]
  | ['ping', number, number]
  | ['pong', number, number]
  | ['timing', TimingReport]
  | ['tempo', Tempo]
)[];

function recorder(): { seen: Seen; visitor: PacketVisitor } {
  const seen: Seen = [];
  return {
    seen,
    visitor: {
      hit: (...args) => seen.push(['hit', ...args]),
      ping: (...args) => seen.push(['ping', ...args]),
      pong: (...args) => seen.push(['pong', ...args]),
      timing: (report) => seen.push(['timing', report]),
      tempo: (tempo) => seen.push(['tempo', tempo]),
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

describe('TIMING and TEMPO packets (DAW → controller)', () => {
  const report: TimingReport = {
    synced: true,
    steady: false,
    late: 0xfffffffe,
    offsetMs: -7_300.123456789,
    oneWayMs: 4.25,
    jitterMs: 0.75,
    steadyDelayMs: 13,
    outputLatencyMs: 21.5,
  };
  const beat: Tempo = { version: 0xffffffff, bpm: 97.3, beatsPerBar: 16, running: true, anchor: 1_763_790_000_123.456 };

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('round-trips a timing report of 32 bytes (synced %s, steady %s)', (synced, steady) => {
    const packet = new PacketWriter(0).timing({ ...report, synced, steady });
    expect(packet.byteLength).toBe(TIMING_BYTES);
    const { seen, visitor } = recorder();
    expect(readPacket(arrive(packet), visitor)).toBeNull();
    expect(seen).toEqual([['timing', { ...report, synced, steady }]]);
  });

  it('sends a late count beyond 32 bits as the largest it can', () => {
    const { seen, visitor } = recorder();
    readPacket(arrive(new PacketWriter(0).timing({ ...report, late: 2 ** 40 })), visitor);
    expect(seen).toEqual([['timing', { ...report, late: 0xffffffff }]]);
  });

  it.each([
    [{ ...beat }],
    [{ ...beat, running: false, beatsPerBar: 1, version: 0, bpm: MIN_BPM }],
    [{ ...beat, bpm: MAX_BPM, beatsPerBar: MAX_BEATS_PER_BAR, anchor: -5 }],
  ])('round-trips a tempo of 24 bytes: %j', (tempo) => {
    const packet = new PacketWriter(0).tempo(tempo);
    expect(packet.byteLength).toBe(TEMPO_BYTES);
    const { seen, visitor } = recorder();
    expect(readPacket(arrive(packet), visitor)).toBeNull();
    expect(seen).toEqual([['tempo', tempo]]);
  });

  /** A valid packet with one change made to its bytes. */
  const edited = (packet: Uint8Array, edit: (view: DataView) => void) => () => {
    const bytes = packet.slice();
    edit(new DataView(bytes.buffer));
    return bytes;
  };
  const timing = () => new PacketWriter(0).timing(report).slice();
  const tempo = () => new PacketWriter(0).tempo(beat).slice();
  const cases: [string, () => Uint8Array, string][] = [
    ['timing cut short', () => timing().subarray(0, TIMING_BYTES - 1), 'BAD_LENGTH'],
    ['timing with a trailing byte', () => Uint8Array.of(...timing(), 0), 'BAD_LENGTH'],
    ['timing of just its kind', () => Uint8Array.of(4), 'BAD_LENGTH'],
    ['timing flag 4', edited(timing(), (v) => v.setUint8(1, 4)), 'BAD_FIELD'],
    ['timing flags 255', edited(timing(), (v) => v.setUint8(1, 255)), 'BAD_FIELD'],
    ['timing offset NaN', edited(timing(), (v) => v.setFloat64(8, Number.NaN, true)), 'BAD_FIELD'],
    ['timing offset -Infinity', edited(timing(), (v) => v.setFloat64(8, Number.NEGATIVE_INFINITY, true)), 'BAD_FIELD'],
    ['timing one-way Infinity', edited(timing(), (v) => v.setFloat32(16, Number.POSITIVE_INFINITY, true)), 'BAD_FIELD'],
    ['timing jitter NaN', edited(timing(), (v) => v.setFloat32(20, Number.NaN, true)), 'BAD_FIELD'],
    ['timing steady delay NaN', edited(timing(), (v) => v.setFloat32(24, Number.NaN, true)), 'BAD_FIELD'],
    [
      'timing output latency Infinity',
      edited(timing(), (v) => v.setFloat32(28, Number.POSITIVE_INFINITY, true)),
      'BAD_FIELD',
    ],
    [
      'timing one-way beyond a float32',
      () => new PacketWriter(0).timing({ ...report, oneWayMs: 1e39 }).slice(),
      'BAD_FIELD',
    ],
    ['tempo cut short', () => tempo().subarray(0, TEMPO_BYTES - 1), 'BAD_LENGTH'],
    ['tempo with a trailing byte', () => Uint8Array.of(...tempo(), 0), 'BAD_LENGTH'],
    ['tempo running byte 2', edited(tempo(), (v) => v.setUint8(2, 2)), 'BAD_FIELD'],
    ['tempo running byte 255', edited(tempo(), (v) => v.setUint8(2, 255)), 'BAD_FIELD'],
    ['tempo 0 beats per bar', edited(tempo(), (v) => v.setUint8(1, 0)), 'BAD_FIELD'],
    ['tempo 17 beats per bar', edited(tempo(), (v) => v.setUint8(1, MAX_BEATS_PER_BAR + 1)), 'BAD_FIELD'],
    ['tempo bpm just under the minimum', edited(tempo(), (v) => v.setFloat64(8, MIN_BPM - 0.01, true)), 'BAD_FIELD'],
    ['tempo bpm just over the maximum', edited(tempo(), (v) => v.setFloat64(8, MAX_BPM + 0.01, true)), 'BAD_FIELD'],
    ['tempo bpm 0', edited(tempo(), (v) => v.setFloat64(8, 0, true)), 'BAD_FIELD'],
    ['tempo bpm NaN', edited(tempo(), (v) => v.setFloat64(8, Number.NaN, true)), 'BAD_FIELD'],
    ['tempo anchor Infinity', edited(tempo(), (v) => v.setFloat64(16, Number.POSITIVE_INFINITY, true)), 'BAD_FIELD'],
    ['tempo anchor NaN', edited(tempo(), (v) => v.setFloat64(16, Number.NaN, true)), 'BAD_FIELD'],
  ];
  it.each(cases)('refuses %s', (_name, make, reason) => {
    const { seen, visitor } = recorder();
    expect(readPacket(arrive(make()), visitor)).toBe(reason);
    expect(seen).toEqual([]);
  });
});

/** The controller's reading of a relayed payload from the DAW: its tempo, or why not. */
function relayedTempo(data: unknown): Tempo | string | null {
  let tempo: Tempo | null = null;
  const error = readRelay(data, { tempo: (t) => (tempo = t) });
  return error ?? tempo;
}

describe('relayed tempo (JSON)', () => {
  const beat: Tempo = { version: 123_456, bpm: 132.5, beatsPerBar: 7, running: false, anchor: 1_763_790_000_123.25 };

  it('round-trips through JSON as {t: [version, bpm, beatsPerBar, anchor, running]}', () => {
    const data = JSON.parse(JSON.stringify(relayTempo(beat)));
    expect(data).toEqual({ t: [123_456, 132.5, 7, 1_763_790_000_123.25, 0] });
    expect(relayedTempo(data)).toEqual(beat);
    expect(relayedTempo(relayTempo({ ...beat, running: true }))).toEqual({ ...beat, running: true });
  });

  const good = [123_456, 132.5, 7, 1_763_790_000_123.25, 1];
  const withField = (index: number, value: unknown) => ({ t: good.map((v, i) => (i === index ? value : v)) });
  const bad: [string, unknown, string][] = [
    ['null', null, 'BAD_FIELD'],
    ['a number', 42, 'BAD_FIELD'],
    ['a string', 't', 'BAD_FIELD'],
    ['a hit (the controller takes none)', { h: [1, 0, 0, 1, 0] }, 'UNKNOWN_KIND'],
    ['t not an array', { t: '120' }, 'BAD_LENGTH'],
    ['t an object', { t: { length: 5 } }, 'BAD_LENGTH'],
    ['t of 4', { t: good.slice(0, 4) }, 'BAD_LENGTH'],
    ['t of 6', { t: [...good, 0] }, 'BAD_LENGTH'],
    ['negative version', withField(0, -1), 'BAD_FIELD'],
    ['fractional version', withField(0, 1.5), 'BAD_FIELD'],
    ['version beyond 32 bits', withField(0, 2 ** 32), 'BAD_FIELD'],
    ['version as a string', withField(0, '5'), 'BAD_FIELD'],
    ['bpm as a string', withField(1, '120'), 'BAD_FIELD'],
    ['bpm under the minimum', withField(1, MIN_BPM - 1), 'BAD_FIELD'],
    ['bpm over the maximum', withField(1, MAX_BPM + 1), 'BAD_FIELD'],
    ['0 beats per bar', withField(2, 0), 'BAD_FIELD'],
    ['17 beats per bar', withField(2, MAX_BEATS_PER_BAR + 1), 'BAD_FIELD'],
    ['fractional beats per bar', withField(2, 2.5), 'BAD_FIELD'],
    ['anchor null (how JSON writes NaN)', withField(3, null), 'BAD_FIELD'],
    ['anchor as a string', withField(3, '0'), 'BAD_FIELD'],
    ['running 2', withField(4, 2), 'BAD_FIELD'],
    ['running true', withField(4, true), 'BAD_FIELD'],
  ];
  it.each(bad)('refuses %s', (_name, data, reason) => {
    expect(relayedTempo(data)).toBe(reason);
  });
});

describe('relayed hits (JSON)', () => {
  it('round-trips a hit through JSON', () => {
    const { seen, visitor } = recorder();
    const data = JSON.parse(JSON.stringify(relayHit(77, 3, 9, 64, 1000.5)));
    expect(readRelay(data, { hit: visitor.hit })).toBeNull();
    expect(seen).toEqual([['hit', 77, 3, 9, 64, 1000.5]]);
  });

  it('reads a dropped-count report', () => {
    const reports: number[] = [];
    expect(readRelay({ d: 4 }, { report: (dropped) => reports.push(dropped) })).toBeNull();
    expect(reports).toEqual([4]);
  });

  const bad: [string, unknown, string][] = [
    ['null', null, 'BAD_FIELD'],
    ['a string', 'hit', 'BAD_FIELD'],
    ['neither h nor d', { x: 1 }, 'UNKNOWN_KIND'],
    ['a tempo (the DAW takes none)', { t: [1, 120, 4, 0, 1] }, 'UNKNOWN_KIND'],
    ['a ping, to a page that takes none', { p: 5 }, 'UNKNOWN_KIND'],
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
    expect(readRelay(data, { hit: visitor.hit, report: (dropped) => reports.push(dropped) })).toBe(reason);
    expect(seen).toEqual([]);
    expect(reports).toEqual([]);
  });
});

describe('relayed clock sync (JSON)', () => {
  function sync(data: unknown) {
    const got: unknown[] = [];
    const error = readRelay(data, { ping: (t) => got.push(['ping', t]), pong: (t, at) => got.push(['pong', t, at]) });
    return { error, got };
  }

  it('reads a ping, a pong, and a pong that is also a ping (the DAW’s answer), pong first', () => {
    expect(sync({ p: 1000.25 })).toEqual({ error: null, got: [['ping', 1000.25]] });
    expect(sync({ q: [1000.25, 5000.5] })).toEqual({ error: null, got: [['pong', 1000.25, 5000.5]] });
    expect(sync(JSON.parse(JSON.stringify({ q: [1, 2], p: 2 })))).toEqual({
      error: null,
      got: [
        ['pong', 1, 2],
        ['ping', 2],
      ],
    });
  });

  const bad: [string, unknown, string][] = [
    ['ping not a number', { p: '5' }, 'BAD_FIELD'],
    ['ping null (how JSON writes NaN)', { p: null }, 'BAD_FIELD'],
    ['pong not an array', { q: 5 }, 'BAD_LENGTH'],
    ['pong of 3', { q: [1, 2, 3] }, 'BAD_LENGTH'],
    ['pong with a string', { q: [1, '2'] }, 'BAD_FIELD'],
    ['pong with a bad ping in it', { q: [1, 2], p: 'x' }, 'BAD_FIELD'],
  ];
  it.each(bad)('refuses %s, calling nothing', (_name, data, reason) => {
    expect(sync(data)).toEqual({ error: reason, got: [] });
  });

  it('refuses a pong that carries a ping to a page that takes no pings, calling nothing', () => {
    const got: unknown[] = [];
    expect(readRelay({ q: [1, 2], p: 2 }, { pong: () => got.push('pong') })).toBe('BAD_FIELD');
    expect(got).toEqual([]);
  });
});

it('makes a fresh random 32-bit epoch each time', () => {
  const epochs = new Set(Array.from({ length: 50 }, newEpoch));
  expect(epochs.size).toBe(50);
  for (const epoch of epochs) expect(epoch >>> 0).toBe(epoch);
});
