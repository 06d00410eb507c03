import { createSignal, onCleanup, onMount } from 'solid-js';

const FLOOR_DB = -60;
/** The fill moves in steps of this fraction of the meter (half a pixel of its 120): a reading that changes nothing writes nothing. */
const STEP = 1 / 240;
/**
 * How often the level is read (30 a second). The engine's analyser holds the last ~43 ms, more than
 * this, so no peak is missed while the timer keeps time (a main thread busy for longer can skip
 * one). Not an animation-frame loop: that asked for every frame, 60 a second,
 * sound or none, and drew every one of them while hits played; a timer that writes only a changed
 * level lets a silent DAW draw nothing, and one playing draw the meter half as often.
 */
const METER_MS = 33;

/**
 * The engine's output level. `data-max-db` is the loudest peak so far: proof, for a person or a
 * test, that hits really made sound. The fill is scaled, not resized: a transform needs no layout.
 */
export function LevelMeter(props: { peakDb: () => number }) {
  const [max, setMax] = createSignal(FLOOR_DB);
  let fill: HTMLDivElement | undefined;
  onMount(() => {
    let shown = Number.NaN;
    const read = () => {
      const db = Math.max(FLOOR_DB, props.peakDb());
      const fraction = Math.round((db - FLOOR_DB) / -FLOOR_DB / STEP) * STEP;
      if (fraction !== shown && fill) {
        shown = fraction;
        fill.style.transform = `scaleX(${fraction})`;
      }
      if (db > max()) setMax(Math.round(db * 10) / 10);
    };
    read();
    const timer = setInterval(read, METER_MS);
    onCleanup(() => clearInterval(timer));
  });
  return (
    <div class="meter" data-testid="level" data-max-db={max()} title="Output level" aria-hidden="true">
      <div class="meter-fill" ref={fill} />
    </div>
  );
}
