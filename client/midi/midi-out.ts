/**
 * Hits → MIDI notes on the chosen output. Each hit is a note-on with its velocity, sent with
 * `MIDIOutput.send(data, timestamp)` at the engine's time for it (at once, or steady mode's
 * planned time on this page's performance clock), and its note-off `gateMs` later, handed to
 * the browser in the same breath: the browser's own queue sends it, so no timer of ours has to
 * run (a hidden tab's timers wait a second or more), and a player leaving, a reload of their
 * phone or a busy main thread cannot lose it. Where notes could still hang (the output is
 * switched or closed, the page goes away), every note not yet ended gets its note-off at once.
 *
 * The hit path (hit()) reads a map, writes six numbers into two reused arrays and calls send()
 * twice: no allocation (but a new player's first hit), no await, no log; it never throws.
 */
import { type ChannelPlan, channelFor, DEFAULT_PLAN, DRUM_CHANNEL } from './channels.ts';
import { DRUM_NOTES, notesTable } from './note-map.ts';

/** How long a note lasts when nothing says otherwise (drum samplers mostly ignore it; synths do not). */
export const DEFAULT_GATE_MS = 100;
export const MIN_GATE_MS = 5;
export const MAX_GATE_MS = 5_000;

/** What this module needs of a `MIDIOutput` (a test's stand-in is one too). */
export interface MidiSink {
  send(data: number[], timestamp?: number): void;
  /** Drops messages queued with timestamps (Firefox; Chromium has none). */
  clear?(): void;
}

interface Player {
  /** In order of first sight, never reused (channels.ts). */
  number: number;
  /** The part's notes per pad, or null for the drum kit. */
  notes: Uint8Array | null;
  channel: number;
}

const NOTE_ON = 0x90;
const NOTE_OFF = 0x80;
const RELEASE_VELOCITY = 0x40;

export const clampGateMs = (ms: number): number =>
  Number.isFinite(ms) ? Math.min(MAX_GATE_MS, Math.max(MIN_GATE_MS, Math.round(ms))) : DEFAULT_GATE_MS;

export class MidiOut {
  private sink: MidiSink | null = null;
  private gate = DEFAULT_GATE_MS;
  private channelPlan: ChannelPlan = DEFAULT_PLAN;
  private readonly players = new Map<string, Player>();
  private readonly laptop: Player = { number: -1, notes: null, channel: DRUM_CHANNEL };
  /** The drum kit's note per pad (note-map.ts: the chosen built-in kit's). */
  private drums: Uint8Array = DRUM_NOTES;
  /** Reused for every message: send() copies its data before it returns. */
  private readonly on = [NOTE_ON, 0, 0];
  private readonly off = [NOTE_OFF, 0, RELEASE_VELOCITY];
  /** Per channel × note: when (performance time, ms) its last note-off is due; 0 for none. */
  private readonly offDue = new Float64Array(16 * 128);
  private readonly origin = performance.timeOrigin;
  /** While set, hits are not sent (a note from MIDI in must not come back out: a loop through a virtual port). */
  private muted = false;
  /** Notes sent, and sends the output refused (a port closing under us: statechange says so soon after). */
  notes = 0;
  failures = 0;

  get output(): MidiSink | null {
    return this.sink;
  }

  /** The output to play on (null: none). Notes still sounding on the old one end there first. */
  setOutput(output: MidiSink | null): void {
    if (output === this.sink) return;
    this.endNotes();
    this.sink = output;
  }

  get gateMs(): number {
    return this.gate;
  }

  setGateMs(ms: number): void {
    this.gate = clampGateMs(ms);
  }

  get plan(): ChannelPlan {
    return this.channelPlan;
  }

  setPlan(plan: ChannelPlan): void {
    this.channelPlan = { mode: plan.mode, channel: plan.channel & 0x0f };
    this.laptop.channel = channelFor(this.channelPlan, -1, true);
    for (const player of this.players.values())
      player.channel = channelFor(this.channelPlan, player.number, !player.notes);
  }

  /** The drum kit's notes, in pad order (note-map.ts drumNotesFor). */
  setDrumNotes(notes: readonly number[]): void {
    this.drums = notesTable(notes);
  }

  /** What `peerId` plays: its part's notes per pad (scales.ts), or null for the drum kit. */
  setPart(peerId: string, notes: readonly number[] | null): void {
    const player = this.players.get(peerId) ?? this.add(peerId);
    player.notes = notes === null ? null : notesTable(notes);
    player.channel = channelFor(this.channelPlan, player.number, notes === null);
  }

  /** The channel `peerId` (null: this computer) plays on now, 0–15. */
  channelOf(peerId: string | null): number {
    return (peerId === null ? this.laptop : (this.players.get(peerId) ?? this.add(peerId))).channel;
  }

  /**
   * A hit, as the engine was given it: pad 0–15, velocity 1–127, `playAt` steady mode's planned
   * time (this page's wall clock, ms) or NaN for now. The hit path: see the module's comment.
   */
  hit(peerId: string | null, pad: number, velocity: number, playAt: number): void {
    const output = this.sink;
    if (output === null || this.muted) return;
    const player = peerId === null ? this.laptop : (this.players.get(peerId) ?? this.add(peerId));
    const note = (player.notes ?? this.drums)[pad];
    if (note === undefined) return;
    const at = Number.isNaN(playAt) ? performance.now() : playAt - this.origin;
    const channel = player.channel;
    const on = this.on;
    const off = this.off;
    on[0] = NOTE_ON | channel;
    on[1] = note;
    on[2] = velocity > 127 ? 127 : velocity < 1 ? 1 : velocity | 0;
    off[0] = NOTE_OFF | channel;
    off[1] = note;
    const endAt = at + this.gate;
    try {
      output.send(on, at);
      output.send(off, endAt);
    } catch {
      this.failures++;
      return;
    }
    this.notes++;
    const key = (channel << 7) | note;
    if ((this.offDue[key] as number) < endAt) this.offDue[key] = endAt;
  }

  /** Plays a pad with its hit not sent out (MIDI in: see muted). */
  withoutEcho(play: (pad: number, velocity: number) => void, pad: number, velocity: number): void {
    this.muted = true;
    try {
      play(pad, velocity);
    } finally {
      this.muted = false;
    }
  }

  /**
   * Every note not yet ended gets its note-off now, on the current output (when it is switched,
   * closed or the page goes away). Its queued note-off may follow later: a second note-off is harmless.
   */
  endNotes(): void {
    const output = this.sink;
    const now = performance.now();
    const off = this.off;
    try {
      output?.clear?.();
    } catch {
      // A closed port: nothing queued there to drop.
    }
    for (let key = 0; key < this.offDue.length; key++) {
      const due = this.offDue[key] as number;
      if (due === 0) continue;
      this.offDue[key] = 0;
      if (output === null || due <= now) continue; // sent already
      off[0] = NOTE_OFF | (key >> 7);
      off[1] = key & 0x7f;
      try {
        output.send(off);
      } catch {
        this.failures++;
      }
    }
  }

  private add(peerId: string): Player {
    const number = this.players.size;
    const player: Player = { number, notes: null, channel: channelFor(this.channelPlan, number, true) };
    this.players.set(peerId, player);
    return player;
  }
}
