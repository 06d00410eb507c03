import { Index, onCleanup, onMount } from 'solid-js';
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
      {/* By position, not by object: a room state that renames or recolours the pads (a kit switch, a part,
          a reconnect re-sending it) updates each button in place, never swaps one from under a finger. */}
      <Index each={props.pads}>
        {(pad, index) => (
          <button type="button" class="pad" data-testid="pad" data-pad={index} style={{ '--pad-color': pad().color }}>
            <span>{pad().name}</span>
          </button>
        )}
      </Index>
    </div>
  );
}
