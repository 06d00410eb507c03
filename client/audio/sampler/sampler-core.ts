/**
 * The sampler's DSP, as pure code: slots of sounds (SoundLayers) with their settings, hits
 * waiting for their start frame, a fixed pool of voices, and a render of one quantum into two
 * channels. The AudioWorklet processor (worklet.ts) feeds it hits and calls render(); the unit
 * tests call it directly. Nothing here allocates after construction except setSound (not on the
 * hit path), so the audio thread never waits for a garbage collection because of it.
 *
 * The rules (issue 10):
 * - A hit starts at its own frame, exactly (within the quantum it falls in), or at the start of
 *   the next quantum if that frame has passed (counted `late`). Hits waiting for their frame hold
 *   no voice, so no player's plan ahead can delay anyone's hit.
 * - The layer is the first whose velocity is ≥ the hit's (the last above all); the gain is
 *   velocityGain(velocity) × the slot's volume; pitch is the playback rate, linearly
 *   interpolated (and the sound's own sample rate is honoured the same way).
 * - A slot's decay ends its voices that long after their start, with a FADE_S fade.
 * - A hit in choke group g fades (FADE_S) every other voice in g that has started.
 * - At most POLYPHONY voices sound at once. A hit that would be one more takes a voice from the
 *   owner sounding the most, the oldest of theirs (it fades out over FADE_S): a player who fills
 *   the pool loses its own tails, never another player's. Every such steal is reported for its
 *   owner (takeGaveWay), as is a hit refused because too many wait for their frame.
 * - Fading voices do not count against POLYPHONY; VOICES − POLYPHONY more are there for them.
 *   If even those are all busy, the most faded one is cut at once (`cut`; it was heard).
 */
import {
  clampSlotSettings,
  DEFAULT_SLOT_SETTINGS,
  FADE_S,
  SLOTS,
  type SlotSettings,
  type SoundLayers,
  velocityGain,
} from '../sound.ts';

/** Frames in a render quantum (Web Audio's). */
export const QUANTUM = 128;
/** Voices that may sound at once (not counting fading ones). */
export const POLYPHONY = 64;
/** Voices in the pool: POLYPHONY plus room for voices fading out. */
export const VOICES = 128;
/** Hits that may wait for their frame. The engine lets no owner hold more than its share (ahead-quota.ts). */
export const PENDING_CAPACITY = 8192;
/** Distinct owners one gave-way report can name (the rest are counted in `gaveWayUnnamed`). */
export const REPORT_OWNERS = 64;

interface Layer {
  velocity: number;
  /** The sound, and one 0 after it (padded): the last sample interpolates towards silence. */
  left: Float32Array;
  /** The same array as `left` for a mono sound. */
  right: Float32Array;
  length: number;
  /** The sound's sample rate over the context's. */
  rateScale: number;
}

const EMPTY = new Float32Array(0);

/** Called for each owner with hits that gave way since the last report, and how many. */
export type GaveWaySink = (owner: number, count: number) => void;

// Plain private fields, not #private ones: the build lowers #fields to WeakMaps (for its oldest
// targets), a lookup per access, which this hot path cannot afford.
export class SamplerCore {
  readonly sampleRate: number;

  // ---- slots ----
  private readonly _layers: (Layer[] | null)[] = new Array<Layer[] | null>(SLOTS).fill(null);
  private readonly _slotGain = new Float64Array(SLOTS).fill(1);
  private readonly _slotRate = new Float64Array(SLOTS).fill(1);
  /** Frames a voice may ring before its fade; Infinity: to its end. */
  private readonly _slotDecay = new Float64Array(SLOTS).fill(Number.POSITIVE_INFINITY);
  private readonly _slotChoke = new Int32Array(SLOTS);

  // ---- hits waiting for their frame: a binary min-heap on (frame, seq) ----
  private readonly _hFrame = new Float64Array(PENDING_CAPACITY);
  private readonly _hSeq = new Float64Array(PENDING_CAPACITY);
  private readonly _hSlot = new Int32Array(PENDING_CAPACITY);
  private readonly _hVelocity = new Float64Array(PENDING_CAPACITY);
  private readonly _hOwner = new Int32Array(PENDING_CAPACITY);
  private _hSize = 0;
  private _seq = 0;

  // ---- voices, as arrays of fields ----
  private readonly _vActive = new Uint8Array(VOICES);
  private readonly _vSlot = new Int32Array(VOICES);
  private readonly _vOwner = new Int32Array(VOICES);
  private readonly _vChoke = new Int32Array(VOICES);
  private readonly _vStart = new Float64Array(VOICES);
  /** Start order (the oldest voice has the least). */
  private readonly _vSeq = new Float64Array(VOICES);
  private readonly _vPos = new Float64Array(VOICES);
  private readonly _vRate = new Float64Array(VOICES);
  private readonly _vGain = new Float64Array(VOICES);
  /** The frame its fade begins (decay, choke or steal); Infinity: none yet. */
  private readonly _vRelease = new Float64Array(VOICES);
  private readonly _vLength = new Float64Array(VOICES);
  private readonly _vLeft: Float32Array[] = new Array<Float32Array>(VOICES).fill(EMPTY);
  private readonly _vRight: Float32Array[] = new Array<Float32Array>(VOICES).fill(EMPTY);
  private readonly _fadeStep: number;

  // ---- scratch for steal() ----
  private readonly _tallyOwner = new Int32Array(VOICES);
  private readonly _tallyCount = new Int32Array(VOICES);
  private readonly _tallyOldest = new Float64Array(VOICES);
  private readonly _tallyVoice = new Int32Array(VOICES);

  // ---- the gave-way report ----
  private readonly _gwOwner = new Int32Array(REPORT_OWNERS);
  private readonly _gwCount = new Int32Array(REPORT_OWNERS);
  private _gwSize = 0;
  /** Hits that gave way beyond REPORT_OWNERS owners in one report (counted in the totals only). */
  gaveWayUnnamed = 0;

  // ---- counters (since construction) ----
  /** Hits taken (waiting or started). */
  hits = 0;
  /** Voices started. */
  started = 0;
  /** Hits started after their frame (it had passed when they arrived). */
  late = 0;
  /** Hits for a slot without a sound (nothing to play). */
  silent = 0;
  /** The slot of the last hit started, and the length (frames) of the layer it played: which sound a hit played. */
  lastSlot = -1;
  lastLength = 0;
  /** Voices taken over POLYPHONY (faded out for a new hit). */
  stolen = 0;
  /** Hits refused: too many waiting for their frame. */
  refused = 0;
  /** Fading voices cut at once because every voice was busy. */
  cut = 0;
  /** Voices sounding (not fading) at the end of the last render. */
  sounding = 0;
  /** The most voices busy at once (fading included). */
  peakVoices = 0;

  constructor(sampleRate: number) {
    if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) throw new Error(`bad sample rate ${sampleRate}`);
    this.sampleRate = sampleRate;
    this._fadeStep = 1 / Math.max(1, Math.round(FADE_S * sampleRate));
    this._vRelease.fill(Number.POSITIVE_INFINITY);
  }

  /** A slot's sound (null: silence). Voices already playing the old one play on. Throws on a malformed sound. */
  setSound(slot: number, sound: SoundLayers | null): void {
    checkSlot(slot);
    if (sound === null) {
      this._layers[slot] = null;
      return;
    }
    const layers: Layer[] = [];
    for (const { velocity, sound: pad } of sound.layers) {
      const [left, right] = pad.channels;
      if (left === undefined || pad.channels.length > 2) throw new Error('a sound has 1 or 2 channels');
      if (right !== undefined && right.length !== left.length) throw new Error('a sound’s channels differ in length');
      if (!(pad.sampleRate > 0) || !Number.isFinite(pad.sampleRate)) throw new Error('a sound needs a sample rate');
      const l = padded(left);
      layers.push({
        velocity: Number.isNaN(velocity) ? 1 : velocity,
        left: l,
        right: right === undefined ? l : padded(right),
        length: l.length,
        rateScale: pad.sampleRate / this.sampleRate,
      });
    }
    if (layers.length === 0) throw new Error('a sound needs a layer');
    layers.sort((a, b) => a.velocity - b.velocity);
    this._layers[slot] = layers;
  }

  /** How a slot's next hits play (out-of-range values are brought into range: sound.ts). */
  setSettings(slot: number, settings: SlotSettings): void {
    checkSlot(slot);
    const s = clampSlotSettings(settings);
    this._slotGain[slot] = 10 ** (s.volumeDb / 20);
    this._slotRate[slot] = 2 ** (s.pitch / 12);
    this._slotDecay[slot] = s.decay * this.sampleRate;
    this._slotChoke[slot] = s.chokeGroup;
  }

  /** Back to DEFAULT_SLOT_SETTINGS. */
  resetSettings(slot: number): void {
    this.setSettings(slot, DEFAULT_SLOT_SETTINGS);
  }

  /**
   * Takes a hit: `start` in context seconds, or < 0 for at once (the next render). Returns false,
   * and reports the owner, if too many hits wait already. A bad slot or velocity is ignored (false).
   */
  hit(slot: number, velocity: number, start: number, owner: number): boolean {
    if (!(slot >= 0 && slot < SLOTS) || (slot | 0) !== slot || !(velocity > 0) || Number.isNaN(start)) return false;
    if (this._hSize >= PENDING_CAPACITY) {
      this.refused++;
      this._gaveWay(owner | 0);
      return false;
    }
    this.hits++;
    this._push(start < 0 ? -1 : Math.round(start * this.sampleRate), slot, velocity > 1 ? 1 : velocity, owner | 0);
    return true;
  }

  /** Hits waiting for their frame. */
  get waiting(): number {
    return this._hSize;
  }

  /**
   * Renders the quantum that starts at `frame0` into `left` and `right` (QUANTUM frames each,
   * overwritten): first every hit due before its end starts, in time order, at its frame.
   */
  render(left: Float32Array, right: Float32Array, frame0: number): void {
    const end = frame0 + QUANTUM;
    while (this._hSize > 0 && (this._hFrame[0] as number) < end) {
      const frame = this._hFrame[0] as number;
      const slot = this._hSlot[0] as number;
      const velocity = this._hVelocity[0] as number;
      const owner = this._hOwner[0] as number;
      this._pop();
      if (frame >= 0 && frame < frame0) this.late++;
      this._start(slot, velocity, owner, frame < frame0 ? frame0 : frame);
    }
    left.fill(0, 0, QUANTUM);
    right.fill(0, 0, QUANTUM);
    let busy = 0;
    let sounding = 0;
    for (let v = 0; v < VOICES; v++) {
      if (this._vActive[v] === 0) continue;
      busy++;
      if (!this._renderVoice(v, left, right, frame0)) {
        this._vActive[v] = 0;
        this._vLeft[v] = EMPTY;
        this._vRight[v] = EMPTY;
      } else if ((this._vRelease[v] as number) >= end) sounding++;
    }
    this.sounding = sounding;
    if (busy > this.peakVoices) this.peakVoices = busy;
  }

  /** Hands over, per owner, the hits that gave way (stolen or refused) since the last call. */
  takeGaveWay(sink: GaveWaySink): void {
    for (let i = 0; i < this._gwSize; i++) sink(this._gwOwner[i] as number, this._gwCount[i] as number);
    this._gwSize = 0;
  }

  get gaveWayPending(): boolean {
    return this._gwSize > 0;
  }

  private _gaveWay(owner: number): void {
    for (let i = 0; i < this._gwSize; i++) {
      if (this._gwOwner[i] === owner) {
        this._gwCount[i] = (this._gwCount[i] as number) + 1;
        return;
      }
    }
    if (this._gwSize === REPORT_OWNERS) {
      this.gaveWayUnnamed++;
      return;
    }
    this._gwOwner[this._gwSize] = owner;
    this._gwCount[this._gwSize] = 1;
    this._gwSize++;
  }

  private _start(slot: number, velocity: number, owner: number, frame: number): void {
    const layers = this._layers[slot];
    if (layers === null || layers === undefined) {
      this.silent++;
      return;
    }
    let layer = layers[layers.length - 1] as Layer;
    for (let i = 0; i < layers.length; i++) {
      const candidate = layers[i] as Layer;
      if (candidate.velocity >= velocity) {
        layer = candidate;
        break;
      }
    }
    const group = this._slotChoke[slot] as number;
    let sounding = 0;
    let free = -1;
    for (let v = 0; v < VOICES; v++) {
      if (this._vActive[v] === 0) {
        if (free < 0) free = v;
        continue;
      }
      if (group !== 0 && this._vChoke[v] === group && (this._vRelease[v] as number) > frame) this._vRelease[v] = frame;
      if ((this._vRelease[v] as number) > frame) sounding++;
    }
    if (sounding >= POLYPHONY) this._steal(frame);
    if (free < 0) free = this._mostFaded();
    const v = free;
    this._vActive[v] = 1;
    this._vSlot[v] = slot;
    this._vOwner[v] = owner;
    this._vChoke[v] = group;
    this._vStart[v] = frame;
    this._vSeq[v] = this.started++;
    this._vPos[v] = 0;
    this._vRate[v] = (this._slotRate[slot] as number) * layer.rateScale;
    this._vGain[v] = velocityGain(velocity) * (this._slotGain[slot] as number);
    this._vRelease[v] = frame + (this._slotDecay[slot] as number);
    this._vLength[v] = layer.length;
    this.lastSlot = slot;
    this.lastLength = layer.length - 1; // the sound's own frames (padded() adds one)
    this._vLeft[v] = layer.left;
    this._vRight[v] = layer.right;
  }

  /** Fades the oldest sounding voice of the owner sounding the most (ties: the owner with the older voice). */
  private _steal(frame: number): void {
    let owners = 0;
    for (let v = 0; v < VOICES; v++) {
      if (this._vActive[v] === 0 || (this._vRelease[v] as number) <= frame) continue;
      const owner = this._vOwner[v] as number;
      const seq = this._vSeq[v] as number;
      let k = 0;
      while (k < owners && this._tallyOwner[k] !== owner) k++;
      if (k === owners) {
        owners++;
        this._tallyOwner[k] = owner;
        this._tallyCount[k] = 0;
        this._tallyOldest[k] = Number.POSITIVE_INFINITY;
      }
      this._tallyCount[k] = (this._tallyCount[k] as number) + 1;
      if (seq < (this._tallyOldest[k] as number)) {
        this._tallyOldest[k] = seq;
        this._tallyVoice[k] = v;
      }
    }
    let best = -1;
    for (let k = 0; k < owners; k++) {
      if (
        best < 0 ||
        (this._tallyCount[k] as number) > (this._tallyCount[best] as number) ||
        (this._tallyCount[k] === this._tallyCount[best] &&
          (this._tallyOldest[k] as number) < (this._tallyOldest[best] as number))
      )
        best = k;
    }
    if (best < 0) return;
    this._vRelease[this._tallyVoice[best] as number] = frame;
    this.stolen++;
    this._gaveWay(this._tallyOwner[best] as number);
  }

  /** Every voice busy: the one whose fade began first is cut now. */
  private _mostFaded(): number {
    let pick = 0;
    for (let v = 1; v < VOICES; v++) if ((this._vRelease[v] as number) < (this._vRelease[pick] as number)) pick = v;
    this.cut++;
    return pick;
  }

  /**
   * Adds voice `v`'s part of the quantum at `frame0`; false once it has ended (its sound played
   * out, or its fade done). Runs in stretches with no test per sample: up to its release at full
   * gain, then through the fade, each stretch ending early where the sound does.
   */
  private _renderVoice(v: number, left: Float32Array, right: Float32Array, frame0: number): boolean {
    const start = this._vStart[v] as number;
    const release = this._vRelease[v] as number;
    const rate = this._vRate[v] as number;
    const gain = this._vGain[v] as number;
    // The last position that can be interpolated (index and index + 1 both in the sound).
    const last = (this._vLength[v] as number) - 1;
    const l = this._vLeft[v] as Float32Array;
    const r = this._vRight[v] as Float32Array;
    const stereo = l !== r;
    const step = this._fadeStep;
    let pos = this._vPos[v] as number;
    let i = start > frame0 ? start - frame0 : 0;
    while (i < QUANTUM) {
      if (!(pos < last)) return false;
      const frame = frame0 + i;
      // Frames this stretch may run: to the quantum's end, the release (if ahead), and the sound's end.
      let n = QUANTUM - i;
      if (frame < release && release - frame < n) n = release - frame;
      const toEnd = Math.ceil((last - pos) / rate);
      if (toEnd < n) n = toEnd;
      let g = gain;
      let dg = 0;
      if (frame >= release) {
        const e = 1 - (frame - release) * step;
        if (e <= 0) return false;
        g = gain * e;
        dg = -gain * step;
        const toSilence = Math.ceil(e / step);
        if (toSilence < n) n = toSilence;
      }
      const end = i + n;
      if (stereo) {
        for (; i < end; i++) {
          const index = pos | 0;
          const frac = pos - index;
          const a = l[index] as number;
          const c = r[index] as number;
          left[i] = (left[i] as number) + (a + ((l[index + 1] as number) - a) * frac) * g;
          right[i] = (right[i] as number) + (c + ((r[index + 1] as number) - c) * frac) * g;
          pos += rate;
          g += dg;
        }
      } else {
        for (; i < end; i++) {
          const index = pos | 0;
          const a = l[index] as number;
          const sample = (a + ((l[index + 1] as number) - a) * (pos - index)) * g;
          left[i] = (left[i] as number) + sample;
          right[i] = (right[i] as number) + sample;
          pos += rate;
          g += dg;
        }
      }
    }
    this._vPos[v] = pos;
    return true;
  }

  private _less(a: number, b: number): boolean {
    const fa = this._hFrame[a] as number;
    const fb = this._hFrame[b] as number;
    return fa < fb || (fa === fb && (this._hSeq[a] as number) < (this._hSeq[b] as number));
  }

  private _swap(a: number, b: number): void {
    swap(this._hFrame, a, b);
    swap(this._hSeq, a, b);
    swap(this._hSlot, a, b);
    swap(this._hVelocity, a, b);
    swap(this._hOwner, a, b);
  }

  private _push(frame: number, slot: number, velocity: number, owner: number): void {
    let i = this._hSize++;
    this._hFrame[i] = frame;
    this._hSeq[i] = this._seq++;
    this._hSlot[i] = slot;
    this._hVelocity[i] = velocity;
    this._hOwner[i] = owner;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this._less(i, parent)) break;
      this._swap(i, parent);
      i = parent;
    }
  }

  private _pop(): void {
    const n = --this._hSize;
    if (n === 0) return;
    this._swap(0, n);
    let i = 0;
    for (;;) {
      const a = 2 * i + 1;
      const b = a + 1;
      let least = i;
      if (a < n && this._less(a, least)) least = a;
      if (b < n && this._less(b, least)) least = b;
      if (least === i) return;
      this._swap(i, least);
      i = least;
    }
  }
}

/** `samples` and a 0 after them. */
function padded(samples: Float32Array): Float32Array {
  const copy = new Float32Array(samples.length + 1);
  copy.set(samples);
  return copy;
}

function swap(array: Float64Array | Int32Array, a: number, b: number): void {
  const t = array[a] as number;
  array[a] = array[b] as number;
  array[b] = t;
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new Error(`no slot ${slot} (0..${SLOTS - 1})`);
}
