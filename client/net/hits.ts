/**
 * The peer wire: what a controller and the DAW say to each other directly, over the data
 * channel (binary) or, when there is none, inside the signal server's `relay` (JSON). The
 * server never reads any of it. docs/protocol.md ("Peer messages") describes the same bytes.
 *
 * Binary packets, little-endian, first byte the kind:
 *   HIT   [1][count u8][0 u16][epoch u32] then `count` records of
 *         [seq u32][pad u8][velocity u8][sentAt f64]            → 8 + 14·count bytes
 *   PING  [2][0 u8][0 u16][dropped u32][t f64]                  → 16 bytes
 *   PONG  [3][0 u8][0 u16][0 u32][t f64 (echoed)][at f64]       → 24 bytes
 *   TIMING [4][flags u8][0 u16][late u32][offset f64]
 *         [oneWay f32][jitter f32][steadyDelay f32][outputLatency f32] → 32 bytes (DAW → controller)
 *   TEMPO [5][beatsPerBar u8][running u8][0 u8][version u32][bpm f64][anchor f64] → 24 bytes (DAW → controller)
 * `epoch` is random per controller page load, so a reloaded controller (whose seq starts
 * again at 0) is not taken for a replay. `sentAt` is the tap time, ms since the Unix epoch
 * in the sender's clock (`performance.timeOrigin + performance.now()`); so are PING's `t`
 * and PONG's `at`, which give both ends NTP-style clock samples (clock-sync.ts). TIMING is
 * what the DAW measured of this controller; TEMPO's `anchor` is beat 0 in the DAW's clock.
 */

export const PacketKind = { HIT: 1, PING: 2, PONG: 3, TIMING: 4, TEMPO: 5 } as const;

export const HIT_HEADER_BYTES = 8;
export const HIT_RECORD_BYTES = 14;
/** More than one record per packet is for redundancy (a later packet repeats recent hits). */
export const MAX_HITS_PER_PACKET = 8;
export const PING_BYTES = 16;
export const PONG_BYTES = 24;
export const TIMING_BYTES = 32;
export const TEMPO_BYTES = 24;
/** TIMING flags. */
export const TIMING_SYNCED = 1;
export const TIMING_STEADY = 2;
/** Tempo bounds (beats per minute, beats per bar) the DAW offers and a controller accepts. */
export const MIN_BPM = 30;
export const MAX_BPM = 300;
export const MAX_BEATS_PER_BAR = 16;
/** Pads a packet may name: room state allows 64 pads. */
export const MAX_PADS = 64;
export const MAX_VELOCITY = 127;

/** Why a packet was refused: the DAW counts these and never lets them reach the engine. */
export type PacketError = 'TOO_SHORT' | 'UNKNOWN_KIND' | 'BAD_COUNT' | 'BAD_LENGTH' | 'BAD_FIELD';

/** Receives decoded packets without any object being made per hit. */
export interface PacketVisitor {
  hit(epoch: number, seq: number, pad: number, velocity: number, sentAt: number): void;
  ping(t: number, dropped: number): void;
  pong(t: number, at: number): void;
  timing(report: TimingReport): void;
  tempo(tempo: Tempo): void;
}

/** What the DAW measured of one controller, sent back to it (TIMING). Times in ms. */
export interface TimingReport {
  /** The DAW knows the controller's clock offset (enough clean samples). */
  synced: boolean;
  /** The DAW plays this controller's hits in steady mode. */
  steady: boolean;
  /** Hits that came too late for the steady window and were played at once. */
  late: number;
  /** Controller clock minus DAW clock. */
  offsetMs: number;
  oneWayMs: number;
  jitterMs: number;
  /** Steady mode's fixed delay from tap to sound for this controller (0 in instant mode). */
  steadyDelayMs: number;
  /** The DAW's audio output latency as the browser reports it. */
  outputLatencyMs: number;
}

/** The DAW's tempo. `anchor`: the wall-clock time (DAW clock) of beat 0. */
export interface Tempo {
  /** Increases with every change, so a late, older packet on the unordered channel is ignored. */
  version: number;
  bpm: number;
  beatsPerBar: number;
  running: boolean;
  anchor: number;
}

export function isValidTempo(t: Tempo): boolean {
  return (
    Number.isInteger(t.version) &&
    t.version >= 0 &&
    t.version <= 0xffffffff &&
    Number.isFinite(t.bpm) &&
    t.bpm >= MIN_BPM &&
    t.bpm <= MAX_BPM &&
    Number.isInteger(t.beatsPerBar) &&
    t.beatsPerBar >= 1 &&
    t.beatsPerBar <= MAX_BEATS_PER_BAR &&
    Number.isFinite(t.anchor)
  );
}

/** Velocity 1–127 (as MIDI): the engine gets velocity / 127. 0 is not a hit. */
export function isValidHit(pad: number, velocity: number, sentAt: number): boolean {
  return (
    Number.isInteger(pad) &&
    pad >= 0 &&
    pad < MAX_PADS &&
    Number.isInteger(velocity) &&
    velocity >= 1 &&
    velocity <= MAX_VELOCITY &&
    Number.isFinite(sentAt)
  );
}

/**
 * Writes packets into buffers it owns and returns views of them: nothing is allocated per
 * hit. `RTCDataChannel.send` copies its argument, so a view is safe to reuse at once.
 * TypeScript `private`, not `#private`: built for the phones' floor (Safari 15.4) every `#` member
 * becomes a WeakMap lookup on each use (docs/architecture.md, "The phones' floor").
 */
export class PacketWriter {
  private readonly hitPacket = new DataView(new ArrayBuffer(HIT_HEADER_BYTES + HIT_RECORD_BYTES * MAX_HITS_PER_PACKET));
  private readonly hitViews: Uint8Array[] = [];
  private readonly pingPacket = new DataView(new ArrayBuffer(PING_BYTES));
  private readonly pongPacket = new DataView(new ArrayBuffer(PONG_BYTES));
  private readonly timingPacket = new DataView(new ArrayBuffer(TIMING_BYTES));
  private readonly tempoPacket = new DataView(new ArrayBuffer(TEMPO_BYTES));

  constructor(epoch: number) {
    this.hitPacket.setUint8(0, PacketKind.HIT);
    this.hitPacket.setUint32(4, epoch >>> 0, true);
    for (let count = 0; count <= MAX_HITS_PER_PACKET; count++) {
      this.hitViews.push(new Uint8Array(this.hitPacket.buffer, 0, HIT_HEADER_BYTES + HIT_RECORD_BYTES * count));
    }
    this.pingPacket.setUint8(0, PacketKind.PING);
    this.pongPacket.setUint8(0, PacketKind.PONG);
    this.timingPacket.setUint8(0, PacketKind.TIMING);
    this.tempoPacket.setUint8(0, PacketKind.TEMPO);
  }

  /** A HIT packet holding one record. */
  hit(seq: number, pad: number, velocity: number, sentAt: number): Uint8Array {
    this.hitPacket.setUint8(1, 1);
    this.writeRecord(0, seq, pad, velocity, sentAt);
    return this.hitViews[1] as Uint8Array;
  }

  /** Starts a HIT packet of several records: `record()` each, then `hits(count)`. */
  record(index: number, seq: number, pad: number, velocity: number, sentAt: number): void {
    if (index < 0 || index >= MAX_HITS_PER_PACKET) throw new RangeError(`record index ${index} out of range`);
    this.writeRecord(index, seq, pad, velocity, sentAt);
  }

  hits(count: number): Uint8Array {
    if (count < 1 || count > MAX_HITS_PER_PACKET) throw new RangeError(`hit count ${count} out of range`);
    this.hitPacket.setUint8(1, count);
    return this.hitViews[count] as Uint8Array;
  }

  ping(t: number, dropped: number): Uint8Array {
    this.pingPacket.setUint32(4, Math.min(dropped, 0xffffffff) >>> 0, true);
    this.pingPacket.setFloat64(8, t, true);
    return new Uint8Array(this.pingPacket.buffer);
  }

  pong(t: number, at: number): Uint8Array {
    this.pongPacket.setFloat64(8, t, true);
    this.pongPacket.setFloat64(16, at, true);
    return new Uint8Array(this.pongPacket.buffer);
  }

  timing(r: TimingReport): Uint8Array {
    this.timingPacket.setUint8(1, (r.synced ? TIMING_SYNCED : 0) | (r.steady ? TIMING_STEADY : 0));
    this.timingPacket.setUint32(4, Math.min(r.late, 0xffffffff) >>> 0, true);
    this.timingPacket.setFloat64(8, r.offsetMs, true);
    this.timingPacket.setFloat32(16, r.oneWayMs, true);
    this.timingPacket.setFloat32(20, r.jitterMs, true);
    this.timingPacket.setFloat32(24, r.steadyDelayMs, true);
    this.timingPacket.setFloat32(28, r.outputLatencyMs, true);
    return new Uint8Array(this.timingPacket.buffer);
  }

  tempo(t: Tempo): Uint8Array {
    this.tempoPacket.setUint8(1, t.beatsPerBar);
    this.tempoPacket.setUint8(2, t.running ? 1 : 0);
    this.tempoPacket.setUint32(4, t.version >>> 0, true);
    this.tempoPacket.setFloat64(8, t.bpm, true);
    this.tempoPacket.setFloat64(16, t.anchor, true);
    return new Uint8Array(this.tempoPacket.buffer);
  }

  private writeRecord(index: number, seq: number, pad: number, velocity: number, sentAt: number): void {
    const at = HIT_HEADER_BYTES + index * HIT_RECORD_BYTES;
    this.hitPacket.setUint32(at, seq >>> 0, true);
    this.hitPacket.setUint8(at + 4, pad);
    this.hitPacket.setUint8(at + 5, velocity);
    this.hitPacket.setFloat64(at + 6, sentAt, true);
  }
}

/**
 * One binary packet → calls on `visitor`, or the reason it is refused. A refused packet
 * calls nothing, not even for its valid records: a peer that sends a bad record is buggy
 * or hostile, and half a packet is not worth trusting.
 */
export function readPacket(data: ArrayBuffer | ArrayBufferView, visitor: PacketVisitor): PacketError | null {
  const view = ArrayBuffer.isView(data)
    ? new DataView(data.buffer, data.byteOffset, data.byteLength)
    : new DataView(data);
  if (view.byteLength < 1) return 'TOO_SHORT';
  switch (view.getUint8(0)) {
    case PacketKind.HIT: {
      if (view.byteLength < HIT_HEADER_BYTES) return 'TOO_SHORT';
      const count = view.getUint8(1);
      if (count < 1 || count > MAX_HITS_PER_PACKET) return 'BAD_COUNT';
      if (view.byteLength !== HIT_HEADER_BYTES + count * HIT_RECORD_BYTES) return 'BAD_LENGTH';
      for (let i = 0; i < count; i++) {
        const at = HIT_HEADER_BYTES + i * HIT_RECORD_BYTES;
        if (!isValidHit(view.getUint8(at + 4), view.getUint8(at + 5), view.getFloat64(at + 6, true))) {
          return 'BAD_FIELD';
        }
      }
      const epoch = view.getUint32(4, true);
      for (let i = 0; i < count; i++) {
        const at = HIT_HEADER_BYTES + i * HIT_RECORD_BYTES;
        visitor.hit(
          epoch,
          view.getUint32(at, true),
          view.getUint8(at + 4),
          view.getUint8(at + 5),
          view.getFloat64(at + 6, true),
        );
      }
      return null;
    }
    case PacketKind.PING: {
      if (view.byteLength !== PING_BYTES) return 'BAD_LENGTH';
      const t = view.getFloat64(8, true);
      if (!Number.isFinite(t)) return 'BAD_FIELD';
      visitor.ping(t, view.getUint32(4, true));
      return null;
    }
    case PacketKind.PONG: {
      if (view.byteLength !== PONG_BYTES) return 'BAD_LENGTH';
      const t = view.getFloat64(8, true);
      const at = view.getFloat64(16, true);
      if (!Number.isFinite(t) || !Number.isFinite(at)) return 'BAD_FIELD';
      visitor.pong(t, at);
      return null;
    }
    case PacketKind.TIMING: {
      if (view.byteLength !== TIMING_BYTES) return 'BAD_LENGTH';
      const flags = view.getUint8(1);
      const report: TimingReport = {
        synced: (flags & TIMING_SYNCED) !== 0,
        steady: (flags & TIMING_STEADY) !== 0,
        late: view.getUint32(4, true),
        offsetMs: view.getFloat64(8, true),
        oneWayMs: view.getFloat32(16, true),
        jitterMs: view.getFloat32(20, true),
        steadyDelayMs: view.getFloat32(24, true),
        outputLatencyMs: view.getFloat32(28, true),
      };
      if (flags > (TIMING_SYNCED | TIMING_STEADY)) return 'BAD_FIELD';
      for (const ms of [
        report.offsetMs,
        report.oneWayMs,
        report.jitterMs,
        report.steadyDelayMs,
        report.outputLatencyMs,
      ]) {
        if (!Number.isFinite(ms)) return 'BAD_FIELD';
      }
      visitor.timing(report);
      return null;
    }
    case PacketKind.TEMPO: {
      if (view.byteLength !== TEMPO_BYTES) return 'BAD_LENGTH';
      const running = view.getUint8(2);
      const tempo: Tempo = {
        version: view.getUint32(4, true),
        bpm: view.getFloat64(8, true),
        beatsPerBar: view.getUint8(1),
        running: running === 1,
        anchor: view.getFloat64(16, true),
      };
      if (running > 1 || !isValidTempo(tempo)) return 'BAD_FIELD';
      visitor.tempo(tempo);
      return null;
    }
    default:
      return 'UNKNOWN_KIND';
  }
}

// ─── The same messages inside a signal-server `relay` (JSON) ─────────────────────────────
/** `{h: [epoch, seq, pad, velocity, sentAt]}`: one hit. */
export type RelayHit = { h: [number, number, number, number, number] };
/** `{d: dropped}`: the controller's count of hits it had to drop (it has no channel to ping on). */
export type RelayReport = { d: number };
/** `{t: [version, bpm, beatsPerBar, anchor, running 0|1]}`: the DAW's tempo, to a controller without a channel. */
export type RelayTempo = { t: [number, number, number, number, number] };
/**
 * Clock sync without a channel: `{p: t}` a ping (t: the sender's wall clock), answered by
 * `{q: [t, at]}` (at: the answerer's). The DAW's answer to a controller's ping is also its
 * own ping (`{q: [t, at], p: at}`), so both ends get a sample a second from the controller's
 * pings alone, and the DAW never sends unasked.
 */
export type RelayPing = { p: number };
export type RelayPong = { q: [number, number]; p?: number };
export type RelayData = RelayHit | RelayReport | RelayTempo | RelayPing | RelayPong;

export const relayTempo = (t: Tempo): RelayTempo => ({
  t: [t.version, t.bpm, t.beatsPerBar, t.anchor, t.running ? 1 : 0],
});

export const relayHit = (epoch: number, seq: number, pad: number, velocity: number, sentAt: number): RelayHit => ({
  h: [epoch, seq, pad, velocity, sentAt],
});

const isU32 = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;

/**
 * What a relayed payload may carry, one handler per kind. A page passes the kinds it takes
 * from the other end (the DAW: hits, reports, pings, pongs; a controller: tempo, pings,
 * pongs): any other kind is refused as UNKNOWN_KIND.
 */
export interface RelayVisitor {
  hit?: PacketVisitor['hit'];
  report?(dropped: number): void;
  tempo?(tempo: Tempo): void;
  ping?(t: number): void;
  pong?(t: number, at: number): void;
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** A relayed payload (already JSON-parsed by the signaling client) → visitor calls, or why not. */
export function readRelay(data: unknown, visitor: RelayVisitor): PacketError | null {
  if (typeof data !== 'object' || data === null) return 'BAD_FIELD';
  if ('h' in data) {
    if (!visitor.hit) return 'UNKNOWN_KIND';
    const hit = data.h;
    if (!Array.isArray(hit) || hit.length !== 5) return 'BAD_LENGTH';
    const [epoch, seq, pad, velocity, sentAt] = hit as unknown[];
    if (!isU32(epoch) || !isU32(seq) || typeof pad !== 'number' || typeof velocity !== 'number') {
      return 'BAD_FIELD';
    }
    if (typeof sentAt !== 'number' || !isValidHit(pad, velocity, sentAt)) return 'BAD_FIELD';
    visitor.hit(epoch, seq, pad, velocity, sentAt);
    return null;
  }
  if ('d' in data) {
    if (!visitor.report) return 'UNKNOWN_KIND';
    if (!isU32(data.d)) return 'BAD_FIELD';
    visitor.report(data.d);
    return null;
  }
  if ('t' in data) {
    if (!visitor.tempo) return 'UNKNOWN_KIND';
    const t = data.t;
    if (!Array.isArray(t) || t.length !== 5) return 'BAD_LENGTH';
    const [version, bpm, beatsPerBar, anchor, running] = t as unknown[];
    if (typeof bpm !== 'number' || typeof beatsPerBar !== 'number' || typeof anchor !== 'number') return 'BAD_FIELD';
    if (!isU32(version) || (running !== 0 && running !== 1)) return 'BAD_FIELD';
    const tempo: Tempo = { version, bpm, beatsPerBar, anchor, running: running === 1 };
    if (!isValidTempo(tempo)) return 'BAD_FIELD';
    visitor.tempo(tempo);
    return null;
  }
  if ('q' in data) {
    if (!visitor.pong) return 'UNKNOWN_KIND';
    const q = data.q;
    if (!Array.isArray(q) || q.length !== 2) return 'BAD_LENGTH';
    const [t, at] = q as unknown[];
    const ping = 'p' in data ? data.p : undefined;
    if (!isTime(t) || !isTime(at) || (ping !== undefined && (!isTime(ping) || !visitor.ping))) return 'BAD_FIELD';
    visitor.pong(t, at);
    if (ping !== undefined) visitor.ping?.(ping);
    return null;
  }
  if ('p' in data) {
    if (!visitor.ping) return 'UNKNOWN_KIND';
    if (!isTime(data.p)) return 'BAD_FIELD';
    visitor.ping(data.p);
    return null;
  }
  return 'UNKNOWN_KIND';
}

/** Fixed for the page's life; read once, as each read is a call into the browser (the hit path reads the clock). */
const TIME_ORIGIN = performance.timeOrigin;
/** This page's wall clock in ms since the Unix epoch, with fractions: monotonic (timeOrigin is fixed). */
export const wallClock = (): number => TIME_ORIGIN + performance.now();

/** A random epoch for this page load. getRandomValues works on plain-http pages too. */
export function newEpoch(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] as number;
}
