/**
 * The musician's recording of a jam's hits (the Record button), as opposed to the bench-only
 * `?record=N` (state/hit-recorder.ts), which keeps every timing figure of a hit for measuring.
 * This keeps what a MIDI file needs: who played, which sound and pad, how hard, and the tap time
 * on the DAW's clock. Preallocated typed arrays, like the bench recorder: `hit()` is on the hit
 * path and allocates nothing (except once per new player), never awaits, never logs.
 *
 * Players and sounds are small tables beside the hits: a player is a peerId (or this computer),
 * a sound is what a player's pads were at the time (the drum kit, or a melodic part's 16 notes),
 * so a file is right even when a player changes instrument mid-take. `drain()` hands the hits
 * since the last drain to storage (take-store.ts), off the hit path.
 */
import type { Part } from '../audio/instruments.ts';
import { DRUM_CHANNEL, GM_PROGRAMS, noteFor } from './gm-notes.ts';

/** The most hits one take keeps (2.8 MB of arrays): over 55 hits a second for an hour. */
export const MAX_TAKE_HITS = 200_000;
/** Player 0 is always this computer (the DAW's own pads and keys). */
export const LOCAL_PLAYER = 0;
export const LOCAL_NAME = 'This computer';

/** What a player's 16 pads play in a take: channel 10's GM drums, or a melodic part's notes. */
export interface TakeSound {
  /** Shown in track names: 'Drums', 'Bass', … */
  label: string;
  drums: boolean;
  /** GM program (0-based) for melodic sounds; 0 for drums. */
  program: number;
  /** The MIDI note of each pad, in pad order. */
  notes: number[];
}

export interface TakePlayer {
  /** null: this computer. */
  peerId: string | null;
  name: string;
}

/** A batch of hits, as stored and as exported. Index i of each array is one hit. */
export interface HitChunk {
  player: Uint16Array;
  sound: Uint16Array;
  pad: Uint8Array;
  velocity: Uint8Array;
  /** The tap time on the DAW's clock (ms since the epoch). */
  tapAt: Float64Array;
}

const LABELS = { drums: 'Drums', bass: 'Bass', keys: 'Keys', pluck: 'Pluck' } as const;

/** The sound a part is in a take: its notes worked out once, off the hit path. */
export function takeSound(part: Part, kitId: string): TakeSound {
  const drums = part.instrument === 'drums';
  return {
    label: LABELS[part.instrument],
    drums,
    program: part.instrument === 'drums' ? 0 : GM_PROGRAMS[part.instrument],
    notes: Array.from({ length: 16 }, (_, pad) => noteFor(part, pad, kitId)),
  };
}

export const soundKey = (sound: TakeSound): string =>
  `${sound.drums ? 'd' : 'm'}${sound.program}:${sound.notes.join(',')}`;

export class Take {
  readonly players: TakePlayer[] = [{ peerId: null, name: LOCAL_NAME }];
  readonly sounds: TakeSound[] = [];
  /** Player index by peerId: looked up on the hit path (indexOf: no allocation). */
  private readonly peerIds: (string | null)[] = [null];
  /** Each player's current sound (index into `sounds`). */
  private readonly soundOf: number[] = [0];
  private defaultSound = 0;
  private readonly player: Uint16Array;
  private readonly hitSound: Uint16Array;
  private readonly pad: Uint8Array;
  private readonly velocity: Uint8Array;
  private readonly tapAt: Float64Array;
  private hitCount = 0;
  private drained = 0;
  /** Hits that did not fit (the take was full). */
  overflow = 0;

  /** `startedAt`: DAW wall clock (ms); hits tapped before it (in flight when Record was pressed) are not kept. */
  constructor(
    readonly startedAt: number,
    drums: TakeSound,
    readonly capacity = MAX_TAKE_HITS,
  ) {
    this.sounds.push(drums);
    this.player = new Uint16Array(capacity);
    this.hitSound = new Uint16Array(capacity);
    this.pad = new Uint8Array(capacity);
    this.velocity = new Uint8Array(capacity);
    this.tapAt = new Float64Array(capacity);
  }

  get count(): number {
    return this.hitCount;
  }

  /** The hit path: one hit played (peerId null: this computer). */
  hit(peerId: string | null, pad: number, velocity: number, tapAt: number): void {
    if (!(tapAt >= this.startedAt)) return; // also NaN
    const i = this.hitCount;
    if (i >= this.capacity) {
      this.overflow++;
      return;
    }
    let player = this.peerIds.indexOf(peerId);
    if (player < 0) player = this.addPlayer(peerId, peerId ?? LOCAL_NAME);
    this.player[i] = player;
    this.hitSound[i] = this.soundOf[player] as number;
    this.pad[i] = pad;
    this.velocity[i] = velocity;
    this.tapAt[i] = tapAt;
    this.hitCount = i + 1;
  }

  /** A player's name (as the member list has it): their track's name. */
  name(peerId: string, name: string): void {
    const player = this.peerIds.indexOf(peerId);
    if (player < 0) this.addPlayer(peerId, name);
    else (this.players[player] as TakePlayer).name = name;
  }

  /** What `peerId`'s pads play from now on (null: this computer); `sound` is the kit's for everyone not told. */
  sound(peerId: string | null | undefined, sound: TakeSound): void {
    const index = this.soundIndex(sound);
    if (peerId === undefined) {
      // The drum kit changed: everyone on drums plays the new one.
      const old = this.defaultSound;
      this.defaultSound = index;
      for (let p = 0; p < this.soundOf.length; p++) if (this.soundOf[p] === old) this.soundOf[p] = index;
      return;
    }
    let player = this.peerIds.indexOf(peerId);
    if (player < 0) player = this.addPlayer(peerId, peerId ?? LOCAL_NAME);
    this.soundOf[player] = index;
  }

  /** The hits since the last drain, copied out (for storage). */
  drain(): HitChunk {
    const from = this.drained;
    const to = this.hitCount;
    this.drained = to;
    return {
      player: this.player.slice(from, to),
      sound: this.hitSound.slice(from, to),
      pad: this.pad.slice(from, to),
      velocity: this.velocity.slice(from, to),
      tapAt: this.tapAt.slice(from, to),
    };
  }

  /** Every hit so far. */
  all(): HitChunk {
    const to = this.hitCount;
    return {
      player: this.player.slice(0, to),
      sound: this.hitSound.slice(0, to),
      pad: this.pad.slice(0, to),
      velocity: this.velocity.slice(0, to),
      tapAt: this.tapAt.slice(0, to),
    };
  }

  private addPlayer(peerId: string | null, name: string): number {
    this.peerIds.push(peerId);
    this.soundOf.push(this.defaultSound);
    return this.players.push({ peerId, name }) - 1;
  }

  private soundIndex(sound: TakeSound): number {
    const key = soundKey(sound);
    const found = this.sounds.findIndex((known) => soundKey(known) === key);
    return found >= 0 ? found : this.sounds.push(sound) - 1;
  }
}

/** Hit chunks joined into one, in order. */
export function joinChunks(chunks: readonly HitChunk[]): HitChunk {
  const total = chunks.reduce((sum, chunk) => sum + chunk.tapAt.length, 0);
  const out: HitChunk = {
    player: new Uint16Array(total),
    sound: new Uint16Array(total),
    pad: new Uint8Array(total),
    velocity: new Uint8Array(total),
    tapAt: new Float64Array(total),
  };
  let at = 0;
  for (const chunk of chunks) {
    out.player.set(chunk.player, at);
    out.sound.set(chunk.sound, at);
    out.pad.set(chunk.pad, at);
    out.velocity.set(chunk.velocity, at);
    out.tapAt.set(chunk.tapAt, at);
    at += chunk.tapAt.length;
  }
  return out;
}

export { DRUM_CHANNEL };
