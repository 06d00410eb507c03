import { createSignal, onCleanup, onMount } from 'solid-js';
import { barFraction, FLOOR_DB, meterRead, silentMeter } from './meter-ballistics.ts';

/**
 * How often the level is read (30 a second). The engine's analyser holds the last ~43 ms, more than
 * this, so no peak is missed while the timer keeps time (a main thread busy for longer can skip
 * one). Not an animation-frame loop: that asked for every frame, 60 a second, sound or none; the
 * bar is written only when it moves (meter-ballistics.ts), so a silent DAW draws nothing and one
 * under a dense stream of hits little.
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
    const meter = silentMeter(performance.now());
    const read = () => {
      const peak = props.peakDb();
      meterRead(meter, peak, performance.now());
      const fraction = barFraction(meter.levelDb);
      if (fraction !== shown && fill) {
        shown = fraction;
        fill.style.transform = `scaleX(${fraction})`;
      }
      const db = Math.max(FLOOR_DB, peak);
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
