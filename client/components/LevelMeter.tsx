import { createSignal, onCleanup, onMount } from 'solid-js';

const FLOOR_DB = -60;
/** The fill moves in steps of this fraction of the meter (half a pixel of its 120): a frame that changes nothing writes nothing. */
const STEP = 1 / 240;

/**
 * The engine's output level, drawn each frame. `data-max-db` is the loudest peak so far:
 * proof, for a person or a test, that hits really made sound. The fill is scaled, not resized:
 * a transform needs no layout, and while hits play the level changes every frame.
 */
export function LevelMeter(props: { peakDb: () => number }) {
  const [max, setMax] = createSignal(FLOOR_DB);
  let fill: HTMLDivElement | undefined;
  onMount(() => {
    let shown = Number.NaN;
    let frame = requestAnimationFrame(function tick() {
      const db = Math.max(FLOOR_DB, props.peakDb());
      const fraction = Math.round((db - FLOOR_DB) / -FLOOR_DB / STEP) * STEP;
      if (fraction !== shown && fill) {
        shown = fraction;
        fill.style.transform = `scaleX(${fraction})`;
      }
      if (db > max()) setMax(Math.round(db * 10) / 10);
      frame = requestAnimationFrame(tick);
    });
    onCleanup(() => cancelAnimationFrame(frame));
  });
  return (
    <div class="meter" data-testid="level" data-max-db={max()} title="Output level" aria-hidden="true">
      <div class="meter-fill" ref={fill} />
    </div>
  );
}
