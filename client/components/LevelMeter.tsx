import { createSignal, onCleanup, onMount } from 'solid-js';

const FLOOR_DB = -60;

/**
 * The engine's output level, drawn each frame. `data-max-db` is the loudest peak so far:
 * proof, for a person or a test, that hits really made sound.
 */
export function LevelMeter(props: { peakDb: () => number }) {
  const [level, setLevel] = createSignal(FLOOR_DB);
  const [max, setMax] = createSignal(FLOOR_DB);
  onMount(() => {
    let frame = requestAnimationFrame(function tick() {
      const db = Math.max(FLOOR_DB, props.peakDb());
      setLevel(db);
      if (db > max()) setMax(Math.round(db * 10) / 10);
      frame = requestAnimationFrame(tick);
    });
    onCleanup(() => cancelAnimationFrame(frame));
  });
  return (
    <div class="meter" data-testid="level" data-max-db={max()} title="Output level" aria-hidden="true">
      <div class="meter-fill" style={{ width: `${((level() - FLOOR_DB) / -FLOOR_DB) * 100}%` }} />
    </div>
  );
}
