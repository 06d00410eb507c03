import { createSignal } from 'solid-js';
import { keyLabel } from '../input/keys.ts';
import type { PadLook } from './PadGrid.tsx';

/** Whether a drag carries files (the only thing a pad takes). */
const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;

/**
 * The DAW's view of the pads: each flashes when hit (the caller animates the element); a click
 * plays it; an audio file dropped on one becomes its sound (`onFile`).
 */
export function DawPads(props: {
  pads: readonly PadLook[];
  hits: readonly number[];
  elements: (HTMLElement | undefined)[];
  onPlay: (pad: number) => void;
  onFile?: (pad: number, file: File) => void;
  /** What each pad's sound is, as the engine was told (sample-sink.ts): shown, and read by tests. */
  sounds?: readonly { source: string; frames: number }[];
}) {
  const [dropTarget, setDropTarget] = createSignal(-1);
  // Read once (a component's body is untracked): read in the JSX, a new list of pads would make them all again.
  const count = props.pads.length;
  return (
    <div class="daw-pads" data-testid="daw-pads">
      {/* Made once, by position: a kit switch renames and recolours the buttons in place (see PadGrid). */}
      {Array.from({ length: count }, (_, index) => (
        <button
          type="button"
          class="daw-pad"
          data-testid="daw-pad"
          data-pad={index}
          data-hits={props.hits[index] ?? 0}
          data-sound={props.sounds?.[index]?.source}
          data-frames={props.sounds?.[index]?.frames}
          classList={{ 'drop-target': dropTarget() === index }}
          style={{ '--pad-color': props.pads[index]?.color }}
          onDragOver={(event) => {
            if (!props.onFile || !carriesFiles(event)) return;
            event.preventDefault(); // this pad takes the drop
            if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
            setDropTarget(index);
          }}
          onDragLeave={() => setDropTarget(-1)}
          onDrop={(event) => {
            setDropTarget(-1);
            const file = event.dataTransfer?.files[0];
            if (!props.onFile || !file) return;
            event.preventDefault(); // or the browser opens the file
            props.onFile(index, file);
          }}
          ref={(element) => {
            props.elements[index] = element;
          }}
          onPointerDown={(event) => {
            event.preventDefault();
            props.onPlay(index);
          }}
        >
          <span class="pad-name">{props.pads[index]?.name}</span>
          <kbd>{keyLabel(index)}</kbd>
          <span class="pad-count">{props.hits[index] ?? 0}</span>
        </button>
      ))}
    </div>
  );
}
