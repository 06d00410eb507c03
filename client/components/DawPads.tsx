import { For } from 'solid-js';
import { keyLabel } from '../input/keys.ts';
import type { PadLook } from './PadGrid.tsx';

/** The DAW's view of the pads: each flashes when hit (the caller animates the element); a click plays it. */
export function DawPads(props: {
  pads: readonly PadLook[];
  hits: readonly number[];
  elements: (HTMLElement | undefined)[];
  onPlay: (pad: number) => void;
}) {
  return (
    <div class="daw-pads" data-testid="daw-pads">
      <For each={props.pads}>
        {(pad, index) => (
          <button
            type="button"
            class="daw-pad"
            data-testid="daw-pad"
            data-pad={index()}
            data-hits={props.hits[index()] ?? 0}
            style={{ '--pad-color': pad.color }}
            ref={(element) => {
              props.elements[index()] = element;
            }}
            onPointerDown={(event) => {
              event.preventDefault();
              props.onPlay(index());
            }}
          >
            <span class="pad-name">{pad.name}</span>
            <kbd>{keyLabel(index())}</kbd>
            <span class="pad-count">{props.hits[index()] ?? 0}</span>
          </button>
        )}
      </For>
    </div>
  );
}
