/**
 * The metronome's timer (client/audio/metronome.ts) with a stand-in engine: only its state, its
 * clock mapping and the clicks it is handed are needed here (the real engine's clicks are heard in
 * tests/e2e/timing.test.ts). Fake timers: how many run is what is tested.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DrumEngine } from '../../client/audio/engine.ts';
import { startMetronome } from '../../client/audio/metronome.ts';
import type { Tempo } from '../../client/net/hits.ts';
import { wallClock } from '../../client/net/hits.ts';
import { initialTempo, withRunning } from '../../client/state/tempo-changes.ts';

function standInEngine() {
  const listeners = new Set<(state: AudioContextState) => void>();
  const engine = {
    state: 'suspended' as AudioContextState,
    clicks: 0,
    accents: [] as boolean[],
    times: [] as number[],
    click(at: number, accent: boolean) {
      engine.clicks += 1;
      engine.accents.push(accent);
      engine.times.push(at);
    },
    contextTimeAt: (wallMs: number) => wallMs / 1000,
    onStateChange(listener: (state: AudioContextState) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setState(state: AudioContextState) {
      engine.state = state;
      for (const listener of listeners) listener(state);
    },
    listeners,
  };
  return engine;
}

describe('the metronome', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs no timer while it cannot click, and ticks from the moment it is woken until it cannot again', () => {
    const engine = standInEngine();
    let tempo: Tempo = initialTempo(wallClock());
    let on = false;
    const metronome = startMetronome(
      engine as unknown as DrumEngine,
      () => tempo,
      () => on,
    );
    expect(vi.getTimerCount()).toBe(0); // off, not running, no sound

    on = true;
    metronome.wake();
    expect(vi.getTimerCount()).toBe(0); // the tempo is not running
    tempo = withRunning(tempo, true, wallClock());
    metronome.wake();
    expect(vi.getTimerCount()).toBe(0); // no sound yet
    engine.setState('running'); // the engine says so by itself
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect(engine.clicks).toBeGreaterThanOrEqual(3); // 120 bpm: a click every 500 ms

    on = false; // switched off: the next tick stops the timer
    vi.advanceTimersByTime(100);
    expect(vi.getTimerCount()).toBe(0);
    const clicks = engine.clicks;
    vi.advanceTimersByTime(2_000);
    expect(engine.clicks).toBe(clicks);

    on = true;
    metronome.wake();
    expect(vi.getTimerCount()).toBe(1);
    metronome.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(engine.listeners.size).toBe(0);
  });

  it('clicks the first downbeat of a tempo started now, accented, at the tempo’s start', () => {
    const engine = standInEngine();
    engine.state = 'running';
    let tempo: Tempo = initialTempo(wallClock());
    const metronome = startMetronome(
      engine as unknown as DrumEngine,
      () => tempo,
      () => true,
    );
    vi.advanceTimersByTime(3); // the tempo starts a moment after the last tick
    tempo = withRunning(tempo, true, wallClock());
    vi.advanceTimersByTime(1); // and the tick that follows comes a moment later still
    metronome.wake();
    expect(engine.times[0]).toBe(tempo.anchor / 1000); // the stand-in's audio clock: wall ms / 1000
    expect(engine.accents[0]).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(engine.accents.slice(0, 3)).toEqual([true, false, false]); // 4 beats a bar
    metronome.stop();
  });
});
