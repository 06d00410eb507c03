/**
 * MIDI clock out from the DAW's tempo (state/tempo.ts): 24 ticks a beat on the tempo's own grid,
 * Start when the beat starts (or, switched on mid-beat, at the next bar) and Stop when it stops,
 * so a DAW set to follow external clock plays along. Ticks are handed to the browser with their
 * timestamps a little ahead (LOOKAHEAD_MS) from a timer; a hidden tab's timers run about once a
 * second, so while hidden they go further ahead. A tempo change reaches the ticks not yet
 * handed over: at most one lookahead late.
 */
import type { Tempo } from '../net/hits.ts';
import type { MidiSink } from './midi-out.ts';

export const CLOCK_PPQN = 24;
/** How often the timer hands over the next ticks. */
export const CLOCK_INTERVAL_MS = 25;
/** How far ahead ticks are handed over while the page is shown, and while hidden. */
export const LOOKAHEAD_MS = 150;
export const HIDDEN_LOOKAHEAD_MS = 1_500;
/** A beat that started at most this long ago is started with (its Start sent late); else the next bar. */
export const START_GRACE_MS = 250;

export const CLOCK_TICK = 0xf8;
export const CLOCK_START = 0xfa;
export const CLOCK_STOP = 0xfc;

/** The tempo's ticks after `after` up to `until` (performance time, ms), at most `max`, into `out`. Pure. */
export function ticksBetween(anchor: number, tickMs: number, after: number, until: number, out: number[], max = 1_000) {
  out.length = 0;
  // A tick at least a quarter of one after the last: a tempo change moves the grid a little.
  let k = Math.ceil((after - anchor) / tickMs + 0.25);
  for (let t = anchor + k * tickMs; t <= until && out.length < max; t = anchor + ++k * tickMs) out.push(t);
  return out;
}

/** Where the clock starts for a running tempo first seen at `now`: its beat 0 if just now, else the next bar's start. */
export function startTime(anchor: number, beatMs: number, beatsPerBar: number, now: number): number {
  if (anchor >= now - START_GRACE_MS) return anchor;
  const bar = beatMs * beatsPerBar;
  return anchor + Math.ceil((now - anchor) / bar) * bar;
}

export class MidiClock {
  #enabled = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The output a Start went to (and no Stop yet). */
  #startedOn: MidiSink | null = null;
  #lastTick = Number.NEGATIVE_INFINITY;
  readonly #origin = performance.timeOrigin;
  readonly #ticks: number[] = [];
  readonly #message = [CLOCK_TICK];

  constructor(
    private readonly output: () => MidiSink | null,
    private readonly tempo: () => Tempo,
  ) {}

  get enabled(): boolean {
    return this.#enabled;
  }

  setEnabled(on: boolean): void {
    this.#enabled = on;
    clearInterval(this.#timer);
    this.#timer = on ? setInterval(() => this.pump(), CLOCK_INTERVAL_MS) : undefined;
    this.pump();
  }

  /** Hands over what is due: Start or Stop as the tempo says, and the next ticks. Call on any tempo change too. */
  pump(now = performance.now()): void {
    const output = this.output();
    const tempo = this.tempo();
    const started = this.#startedOn;
    if (started !== null && (started !== output || !tempo.running || !this.#enabled)) {
      this.#send(started, CLOCK_STOP, now);
      this.#startedOn = null;
    }
    if (!this.#enabled || output === null || !tempo.running) return;
    const anchor = tempo.anchor - this.#origin;
    const beatMs = 60_000 / tempo.bpm;
    const tickMs = beatMs / CLOCK_PPQN;
    if (this.#startedOn === null) {
      const at = startTime(anchor, beatMs, tempo.beatsPerBar, now);
      if (!this.#send(output, CLOCK_START, at)) return;
      this.#startedOn = output;
      this.#lastTick = at - tickMs; // the first tick on the Start
    }
    const hidden = typeof document !== 'undefined' && document.hidden;
    const horizon = now + (hidden ? HIDDEN_LOOKAHEAD_MS : LOOKAHEAD_MS);
    for (const at of ticksBetween(anchor, tickMs, this.#lastTick, horizon, this.#ticks)) {
      if (!this.#send(output, CLOCK_TICK, at)) return;
      this.#lastTick = at;
    }
  }

  dispose(): void {
    this.setEnabled(false);
  }

  #send(output: MidiSink, byte: number, at: number): boolean {
    this.#message[0] = byte;
    try {
      output.send(this.#message, at);
      return true;
    } catch {
      return false; // a port closing under us: its statechange follows
    }
  }
}
