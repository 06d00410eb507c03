import { createSignal, For, Show } from 'solid-js';
import { KIT_FILE_EXTENSION, MAX_CHOKE_GROUP } from '../audio/kit-file.ts';
import { LIMITS_TEXT } from '../audio/sample-import.ts';
import { DEFAULT_SLOT_SETTINGS, type SlotSettings } from '../audio/sound.ts';
import type { KitStore } from '../state/kit-store.ts';
import type { PadLook } from './PadGrid.tsx';
import './PadSamples.css';
import { downloadBlob } from '../src/download.ts';

/** What file dialogs offer: anything audio, and the usual extensions for systems that do not map them. */
const AUDIO_ACCEPT = 'audio/*,.wav,.mp3,.ogg,.oga,.opus,.flac,.m4a,.aac,.webm';

/** The input's files, then the input cleared (so picking the same file again fires again). */
function takeFile(event: Event & { currentTarget: HTMLInputElement }): File | null {
  const file = event.currentTarget.files?.[0] ?? null;
  event.currentTarget.value = '';
  return file;
}

const formatSeconds = (seconds: number) => (seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1));

/**
 * The musician's own sounds: a file per pad (picked here, or dropped on a DAW pad), normalise
 * or not, the pad's volume, pitch, decay and choke group, and kits: pick, new, delete, export to
 * one file, import one. Refusals are shown with their code; nothing changes for them.
 */
export function PadSamples(props: { store: KitStore; builtIn: readonly PadLook[] }) {
  const view = props.store.view;
  const [editing, setEditing] = createSignal(0);
  const settings = () => view.pads[editing()]?.settings ?? DEFAULT_SLOT_SETTINGS;
  const look = () => view.pads[editing()] ?? { name: '', color: '#888888' };
  const change = (patch: Partial<SlotSettings>) => {
    void props.store.setPadSettings(editing(), { ...settings(), ...patch });
  };
  const number = (event: Event & { currentTarget: HTMLInputElement }) => event.currentTarget.valueAsNumber;

  return (
    <div
      class="samples"
      data-testid="samples"
      data-loaded={view.loaded}
      data-busy={view.busy !== null}
      data-done={view.done}
    >
      <div class="kit-bar">
        <label>
          Kit{' '}
          <select
            data-testid="kit-select"
            disabled={view.kits.length === 0}
            onChange={(event) => void props.store.selectKit(event.currentTarget.value)}
          >
            <For each={view.kits}>
              {(kit) => (
                <option value={kit.id} selected={kit.id === view.id}>
                  {kit.name}
                </option>
              )}
            </For>
          </select>
        </label>
        <input
          data-testid="kit-name"
          aria-label="Kit name"
          value={view.name}
          maxlength={40}
          onChange={(event) => void props.store.renameKit(event.currentTarget.value)}
        />
        <button type="button" class="small" onClick={() => void props.store.newKit()}>
          New kit
        </button>
        <button type="button" class="small" data-testid="kit-delete" onClick={() => void props.store.deleteKit()}>
          Delete kit
        </button>
        <button
          type="button"
          class="small"
          data-testid="kit-export"
          onClick={() => {
            const { name, blob } = props.store.exportKit();
            downloadBlob(name, blob);
          }}
        >
          Export kit
        </button>
        <label class="button small">
          Import kit…
          <input
            type="file"
            hidden
            data-testid="kit-file"
            accept={KIT_FILE_EXTENSION}
            onChange={(event) => {
              const file = takeFile(event);
              if (file) void props.store.importKitFile(file);
            }}
          />
        </label>
      </div>
      <p class="muted" data-testid="sample-limits">
        Drop an audio file on a pad, or load one below (WAV, MP3, OGG, FLAC, M4A: whatever this browser plays).{' '}
        {LIMITS_TEXT} Leading silence is trimmed. Samples stay in this browser; export the kit to share it.
      </p>
      <label>
        <input
          type="checkbox"
          data-testid="normalise"
          checked={view.normalise}
          onChange={(event) => props.store.setNormalise(event.currentTarget.checked)}
        />{' '}
        Normalise new samples (peak to −1 dBFS)
      </label>
      <Show when={view.busy}>
        <p class="muted" data-testid="sample-busy">
          {view.busy}
        </p>
      </Show>
      <Show when={view.error}>
        {(error) => (
          <p class="sample-error" role="alert" data-testid="sample-error" data-code={error().code}>
            <strong>{error().code}</strong> {error().message}
          </p>
        )}
      </Show>
      <Show when={view.notice}>
        <p class="muted" data-testid="sample-notice">
          {view.notice}
        </p>
      </Show>
      <ol class="sample-pads">
        <For each={view.pads}>
          {(pad, index) => (
            <li
              data-testid="sample-pad"
              data-pad={index()}
              data-sound={pad.sample ? 'sample' : 'built-in'}
              classList={{ editing: editing() === index() }}
              style={{ '--pad-color': pad.color }}
            >
              <button type="button" class="pad-label" title="Volume, pitch, decay" onClick={() => setEditing(index())}>
                {pad.name}
              </button>
              <span class="muted" data-testid="sample-info">
                {pad.sample
                  ? `${formatSeconds(pad.sample.seconds)} s ${pad.sample.channels === 2 ? 'stereo' : 'mono'}`
                  : 'built-in'}
              </span>
              <label class="button small">
                Load…
                <input
                  type="file"
                  hidden
                  data-testid="sample-file"
                  accept={AUDIO_ACCEPT}
                  onChange={(event) => {
                    const file = takeFile(event);
                    if (file) void props.store.importSample(index(), file);
                  }}
                />
              </label>
              <Show when={pad.sample}>
                <button
                  type="button"
                  class="small"
                  data-testid="sample-clear"
                  title="Play the built-in sound again"
                  onClick={() => {
                    const look = props.builtIn[index()] ?? { name: `Pad ${index() + 1}`, color: '#888888' };
                    void props.store.clearPad(index(), look);
                  }}
                >
                  Built-in
                </button>
              </Show>
            </li>
          )}
        </For>
      </ol>
      <fieldset class="pad-settings" data-testid="pad-settings">
        <legend>
          Pad {editing() + 1}: {view.pads[editing()]?.name}
        </legend>
        <label>
          Name{' '}
          <input
            data-testid="pad-name"
            maxlength={24}
            value={view.pads[editing()]?.name ?? ''}
            onChange={(event) =>
              void props.store.setPadLook(editing(), { name: event.currentTarget.value, color: look().color })
            }
          />
        </label>
        <label>
          Colour{' '}
          <input
            type="color"
            data-testid="pad-color"
            value={look().color}
            onChange={(event) =>
              void props.store.setPadLook(editing(), { name: look().name, color: event.currentTarget.value })
            }
          />
        </label>
        <label>
          Volume (dB){' '}
          <input
            type="number"
            data-testid="pad-volume"
            min={-60}
            max={12}
            step={0.5}
            value={settings().volumeDb}
            onChange={(event) => change({ volumeDb: number(event) })}
          />
        </label>
        <label>
          Pitch (semitones){' '}
          <input
            type="number"
            data-testid="pad-pitch"
            min={-24}
            max={24}
            step={1}
            value={settings().pitch}
            onChange={(event) => change({ pitch: number(event) })}
          />
        </label>
        <label>
          Decay (s, empty: to its end){' '}
          <input
            type="number"
            data-testid="pad-decay"
            min={0.02}
            max={30}
            step={0.01}
            value={Number.isFinite(settings().decay) ? settings().decay : ''}
            onChange={(event) => {
              const typed = event.currentTarget.value.trim();
              change({ decay: typed === '' ? Number.POSITIVE_INFINITY : number(event) });
            }}
          />
        </label>
        <label>
          Choke group (0: none){' '}
          <input
            type="number"
            data-testid="pad-choke"
            min={0}
            max={MAX_CHOKE_GROUP}
            step={1}
            value={settings().chokeGroup}
            onChange={(event) => change({ chokeGroup: number(event) })}
          />
        </label>
      </fieldset>
    </div>
  );
}
