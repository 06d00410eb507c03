import { onCleanup, onMount } from 'solid-js';
import { velocityAt } from '../input/velocity.ts';
import { MAX_PADS } from '../net/hits.ts';

/** The buzz under the finger (where the browser can vibrate), ms. */
const BUZZ_MS = 8;
/**
 * At most one buzz this often, ms: a finger feels a roll's buzzes as one from ~25 a second, and each
 * call costs the phone (a message to the browser: ~0.3 ms in headless Chromium here, at every other
 * tap of bench/hit-path.ts's 200 taps/s with only BUZZ_MS between buzzes).
 */
const BUZZ_EVERY_MS = 40;
/**
 * A struck pad is lit this long at least: taps quicker than that keep it lit rather than make it
 * flicker (each flicker a frame drawn and a fade begun, on a phone that should be sending).
 */
const MIN_LIT_MS = 50;

/** A type, not an interface: it must fit the room state's open-ended pad objects. */
export type PadLook = {
  name: string;
  color: string;
};

/**
 * The controller's 4×4 pads. A hit fires on pointerdown (a click waits for the finger to
 * lift), one per finger, so several fingers play at once. One listener on the grid, no
 * framework work on the way: the handler reads the pad from the element and sends. The pads
 * are lit (a class) at the next animation frame, not in the handler: a class changed in one tap
 * left the page's style stale, and the next tap's position (offsetX, clientWidth) then had to
 * bring style and layout up to date before its hit could be sent (at 200 taps/s, each time).
 * A struck pad stays lit MIN_LIT_MS at least, so a tap shorter than a frame still shows.
 */

export function PadGrid(props: { pads: readonly PadLook[]; onHit: (pad: number, velocity: number) => void }) {
  let grid: HTMLDivElement | undefined;
  // Read once (a component's body is untracked): the grid keeps this many buttons.
  const count = props.pads.length;
  // Where supported (Android Chrome), a short buzz under the finger. iOS Safari has no vibrate.
  // Not before the page has had a real tap (browsers refuse it then, with a console warning each
  // time), nor within BUZZ_EVERY_MS of the last buzz.
  const vibrate = typeof navigator.vibrate === 'function' ? navigator.vibrate.bind(navigator) : null;
  const activation = (navigator as { userActivation?: { hasBeenActive: boolean } }).userActivation;
  let buzzUntil = 0;
  /** Per pad: a finger on it now; lit at least until then (performance.now()); lit on screen. */
  const held = new Uint8Array(MAX_PADS);
  const litUntil = new Float64Array(MAX_PADS);
  const lit = new Uint8Array(MAX_PADS);
  let frame = 0;
  /** Asks for a frame when a pad lit only by its time is due to go out. */
  let outTimer: ReturnType<typeof setTimeout> | undefined;
  let outDue = Number.POSITIVE_INFINITY;
  const outAt = (at: number, now: number) => {
    if (at >= outDue) return;
    clearTimeout(outTimer);
    outDue = at;
    outTimer = setTimeout(onOut, at - now);
  };
  const onOut = () => {
    outTimer = undefined;
    outDue = Number.POSITIVE_INFINITY;
    // A frame only if a pad is to go out now: one tapped again meanwhile stays lit, and a frame
    // asked for with nothing to change is a frame drawn all the same (20 a second in a fast roll).
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (let pad = 0; pad < lit.length; pad++) {
      if (lit[pad] === 0 || held[pad] === 1) continue;
      const until = litUntil[pad] as number;
      if (until <= now + 1) return repaint(); // timers round their delay down to whole ms: within 1 ms is due
      if (until < next) next = until;
    }
    if (next !== Number.POSITIVE_INFINITY) outAt(next, now);
  };
  const paint = () => {
    frame = 0;
    const pads = grid?.children;
    if (!pads) return;
    const now = performance.now();
    for (let pad = 0; pad < held.length && pad < pads.length; pad++) {
      const until = litUntil[pad] as number;
      const on = held[pad] === 1 || now < until ? 1 : 0;
      if (held[pad] === 0 && now < until) outAt(until, now);
      if (on === lit[pad]) continue;
      lit[pad] = on;
      (pads[pad] as HTMLElement).classList.toggle('down', on === 1);
    }
  };
  const repaint = () => {
    if (frame === 0) frame = requestAnimationFrame(paint);
  };
  onCleanup(() => {
    cancelAnimationFrame(frame);
    clearTimeout(outTimer);
  });

  const down = (event: PointerEvent) => {
    const target = event.target as HTMLElement;
    const pad = Number(target.dataset.pad);
    if (!(pad >= 0)) return;
    event.preventDefault(); // no emulated mouse events, no focus, no text selection
    props.onHit(
      pad,
      velocityAt(
        event.offsetX,
        event.offsetY,
        target.clientWidth,
        target.clientHeight,
        event.pointerType,
        event.pressure,
      ),
    );
    if (pad < held.length) {
      held[pad] = 1;
      litUntil[pad] = performance.now() + MIN_LIT_MS;
      if (lit[pad] === 0) repaint(); // lit already: nothing to draw
    }
    if (vibrate !== null && activation?.hasBeenActive !== false) {
      const now = event.timeStamp;
      if (!(now < buzzUntil)) {
        buzzUntil = now + BUZZ_EVERY_MS;
        vibrate(BUZZ_MS);
      }
    }
  };
  const up = (event: PointerEvent) => {
    const pad = Number((event.target as HTMLElement).dataset.pad);
    if (!(pad >= 0 && pad < held.length) || held[pad] === 0) return;
    held[pad] = 0;
    const now = performance.now();
    if (lit[pad] === 1 && now < (litUntil[pad] as number))
      outAt(litUntil[pad] as number, now); // out later, no frame now
    else repaint();
  };
  const noMenu = (event: Event) => event.preventDefault();

  onMount(() => {
    const element = grid as HTMLDivElement;
    element.addEventListener('pointerdown', down);
    element.addEventListener('pointerup', up);
    element.addEventListener('pointercancel', up);
    element.addEventListener('pointerleave', up, true);
    element.addEventListener('contextmenu', noMenu);
    onCleanup(() => {
      element.removeEventListener('pointerdown', down);
      element.removeEventListener('pointerup', up);
      element.removeEventListener('pointercancel', up);
      element.removeEventListener('pointerleave', up, true);
      element.removeEventListener('contextmenu', noMenu);
    });
  });

  return (
    <div class="pad-grid" ref={grid} data-testid="pad-grid">
      {/* The buttons are made once, as many as there are pads at first (always 16), and only their
          names and colours follow the pads after. A room state (the welcome, each `state`) brings new
          objects for the pads: a keyed list (For) would make all 16 buttons again each time, in the
          phone's welcome, while its offer waits. No list helper at all: the phone's bundle gains nothing. */}
      {Array.from({ length: count }, (_, index) => (
        <button
          type="button"
          class="pad"
          data-testid="pad"
          data-pad={index}
          style={{ '--pad-color': props.pads[index]?.color }}
        >
          <span>{props.pads[index]?.name}</span>
        </button>
      ))}
    </div>
  );
}
