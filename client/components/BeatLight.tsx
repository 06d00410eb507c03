import { createEffect, onCleanup, untrack } from 'solid-js';
import type { Tempo } from '../net/hits.ts';
import { beatMs, beatPosition, isDownbeat } from '../state/tempo.ts';

/** How long the light stays lit on each beat, at most (and at most a third of a beat). */
const LIT_MS = 90;

/**
 * A light that flashes on the DAW's beat, brighter on the bar's first. `dawNow` is the DAW's
 * clock now as this page knows it (the controller adds its clock offset, and both add the
 * DAW's audio output latency, so the light and the click are seen and heard together). Driven
 * by requestAnimationFrame straight on the element, not through Solid: nothing re-renders
 * sixty times a second. `data-beat` (the beat's index while lit, else empty) is for tests.
 */
export function BeatLight(props: { tempo: Tempo | null; dawNow: () => number; label?: string }) {
  let element: HTMLSpanElement | undefined;
  let frame = 0;
  const stop = () => {
    cancelAnimationFrame(frame);
    frame = 0;
    if (element) {
      element.className = 'beat-light';
      element.dataset.beat = '';
    }
  };
  createEffect(() => {
    const tempo = props.tempo;
    stop();
    if (!tempo?.running) return;
    const litMs = Math.min(LIT_MS, beatMs(tempo) / 3);
    let shown = '';
    const draw = () => {
      frame = requestAnimationFrame(draw);
      const position = beatPosition(tempo, props.dawNow());
      const index = Math.floor(position);
      const lit = position >= 0 && (position - index) * beatMs(tempo) < litMs;
      const state = lit ? `${index}` : '';
      if (state === shown || !element) return;
      shown = state;
      element.dataset.beat = state;
      element.className = lit ? `beat-light on${isDownbeat(tempo, index) ? ' accent' : ''}` : 'beat-light';
    };
    untrack(draw); // dawNow may read reactive state (the DAW's report): that must not restart the light
  });
  onCleanup(stop);
  return (
    <span
      ref={element}
      class="beat-light"
      data-testid="beat-light"
      data-beat=""
      role="img"
      aria-label={props.label ?? 'Beat'}
      title={props.tempo?.running ? `${props.tempo.bpm} BPM` : 'No beat running'}
    />
  );
}
