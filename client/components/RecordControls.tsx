import { createSignal, Show } from 'solid-js';
import type { Recording } from '../recording/recording.ts';

const clock = (ms: number) => {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};
const timeOfDay = (at: number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Record the jam (every player's hits and the DAW's sound), then download it as MIDI and WAV. */
export function RecordControls(props: { recording: Recording; soundOn: boolean }) {
  const rec = props.recording;
  const [quantise, setQuantise] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const recording = () => rec.state() === 'recording' || rec.state() === 'stopping';
  const run = (job: () => Promise<void>) => {
    setBusy(true);
    void job().finally(() => setBusy(false));
  };
  return (
    <div
      class="record"
      data-testid="record-controls"
      data-state={rec.state()}
      data-store={rec.storeKind() ?? ''}
      data-saved-hits={rec.saved().hits}
      data-saved-frames={rec.saved().frames}
    >
      <button
        type="button"
        class={recording() ? 'primary' : ''}
        data-testid="record"
        aria-pressed={recording()}
        disabled={rec.state() === 'stopping' || (!recording() && !props.soundOn)}
        title={props.soundOn ? 'Record every player’s hits and the DAW’s sound' : 'Turn sound on to record'}
        onClick={() => void (recording() ? rec.stop() : rec.start())}
      >
        {recording() ? '■ Stop' : '● Record'}
      </button>{' '}
      <Show when={recording()}>
        <span data-testid="record-time">{clock(rec.elapsedMs())}</span>{' '}
        <span class="muted">of {clock(rec.limitMs())} at most</span>
      </Show>
      <Show when={rec.message()}>
        {(message) => (
          <p class="warning" data-testid="record-message" data-code={message().code}>
            {message().text}
          </p>
        )}
      </Show>
      <Show when={rec.kept()}>
        {(kept) => (
          <div
            class="take"
            data-testid="take"
            data-origin-ms={kept().origin}
            data-started-ms={kept().meta.startedAt}
            data-stopped-ms={kept().meta.stoppedAt ?? kept().meta.lastAt}
            data-hits={kept().meta.hits}
            data-unfinished={kept().unfinished}
          >
            <p>
              Recording from {timeOfDay(kept().meta.startedAt)},{' '}
              {clock((kept().meta.stoppedAt ?? kept().meta.lastAt) - kept().meta.startedAt)}, {kept().meta.hits} hit
              {kept().meta.hits === 1 ? '' : 's'}
              <Show when={kept().unfinished}>
                {' '}
                <span class="muted">
                  (not stopped: the page was closed or reloaded while recording; kept up to then)
                </span>
              </Show>
            </p>
            <button
              type="button"
              data-testid="record-midi"
              disabled={busy()}
              onClick={() => run(() => rec.downloadMidi(quantise()))}
            >
              Download MIDI
            </button>{' '}
            <button type="button" data-testid="record-wav" disabled={busy()} onClick={() => run(rec.downloadWav)}>
              Download WAV
            </button>{' '}
            <button type="button" class="small" data-testid="record-discard" onClick={() => void rec.discard()}>
              Discard
            </button>
            <label
              class="muted"
              title={
                kept().beat
                  ? 'Notes moved to the nearest sixteenth of the beat'
                  : 'Needs the beat running while recording'
              }
            >
              <input
                type="checkbox"
                data-testid="record-quantise"
                checked={quantise()}
                disabled={!kept().beat}
                onChange={(event) => setQuantise(event.currentTarget.checked)}
              />{' '}
              Quantise MIDI to sixteenths
            </label>
          </div>
        )}
      </Show>
    </div>
  );
}
