/**
 * The DAW's metronome: clicks scheduled on the audio clock a little ahead, "two clocks" style
 * (a coarse JS timer, exact audio times), so they land on the beat whatever the main thread
 * is doing. It is not on the hit path, so looking ahead costs nothing.
 */
import type { Tempo } from '../net/hits.ts';
import { wallClock } from '../net/hits.ts';
import { beatMs, isDownbeat, nextBeat } from '../state/tempo.ts';
import type { DrumEngine } from './engine.ts';

export const METRONOME_TICK_MS = 25;
/** How far ahead clicks are handed to the audio clock: several ticks, for a busy main thread. */
export const METRONOME_AHEAD_MS = 120;
/**
 * A beat this recently past and not yet clicked is clicked at once: the first downbeat of a tempo
 * started now lies a moment behind the tick that follows (its anchor is the start itself).
 */
export const METRONOME_CATCH_UP_MS = 10;

export interface Metronome {
  /** The tempo, the switch or the engine's state changed: ticking starts (or stops) now. */
  wake(): void;
  stop(): void;
}

/**
 * Ticks every METRONOME_TICK_MS only while it clicks (the switch on, the tempo running, the
 * engine's sound on); otherwise no timer runs at all (40 empty ticks a second were 40 tasks an
 * arriving hit could wait behind), and `wake` starts it again.
 */
export function startMetronome(engine: DrumEngine, tempo: () => Tempo, enabled: () => boolean): Metronome {
  let scheduledUntil = Number.NEGATIVE_INFINITY;
  let version = -1;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    const t = tempo();
    if (!t.running || !enabled() || engine.state !== 'running') {
      scheduledUntil = Number.NEGATIVE_INFINITY;
      clearInterval(timer);
      timer = undefined;
      return;
    }
    const now = wallClock();
    if (t.version !== version) {
      // New tempo or phase: what is already handed over stays; from now on, the new beat.
      version = t.version;
      scheduledUntil = Math.max(scheduledUntil, now - METRONOME_CATCH_UP_MS);
    }
    let { index, at } = nextBeat(t, Math.max(now - METRONOME_CATCH_UP_MS, scheduledUntil));
    for (let n = 0; n < 16 && at < now + METRONOME_AHEAD_MS; n++) {
      engine.click(engine.contextTimeAt(at), isDownbeat(t, index));
      scheduledUntil = at + 1;
      index += 1;
      at += beatMs(t);
    }
  };
  const wake = () => {
    if (timer === undefined) timer = setInterval(tick, METRONOME_TICK_MS);
    tick();
  };
  const unsubscribe = engine.onStateChange(wake);
  wake();
  return {
    wake,
    stop() {
      unsubscribe();
      clearInterval(timer);
      timer = undefined;
    },
  };
}
