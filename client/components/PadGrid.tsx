import { onCleanup, onMount } from 'solid-js';
import { velocityAt } from '../input/velocity.ts';

/** A type, not an interface: it must fit the room state's open-ended pad objects. */
export type PadLook = {
  name: string;
  color: string;
};

/**
 * The controller's 4×4 pads. A hit fires on pointerdown (a click waits for the finger to
 * lift), one per finger, so several fingers play at once. One listener on the grid, no
 * framework work on the way: the handler reads the pad from the element, sends, then lights
 * the pad with a class (no animation object per hit).
 */
export function PadGrid(props: { pads: readonly PadLook[]; onHit: (pad: number, velocity: number) => void }) {
  let grid: HTMLDivElement | undefined;
  // Read once (a component's body is untracked): the grid keeps this many buttons.
  const count = props.pads.length;
  // Where supported (Android Chrome), a short buzz under the finger. iOS Safari has no vibrate.
  const vibrate = typeof navigator.vibrate === 'function' ? navigator.vibrate.bind(navigator) : null;

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
    target.classList.add('down');
    vibrate?.(8);
  };
  const up = (event: PointerEvent) => {
    (event.target as HTMLElement).classList.remove('down');
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
