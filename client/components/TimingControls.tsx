import type { PlayMode } from '../net/daw-peers.ts';
import { MAX_BPM, MIN_BPM, type Tempo } from '../net/hits.ts';
import { BeatLight } from './BeatLight.tsx';

const MODE_TITLE: Record<PlayMode, string> = {
  instant: 'Each hit sounds the moment it arrives: lowest latency, but network jitter shows',
  steady:
    "Each hit sounds a fixed time after it was tapped (per phone, from its measured jitter): the groove's spacing is kept exactly, a few ms later",
};

/** The DAW's play mode, tempo, beat and metronome. */
export function TimingControls(props: {
  mode: PlayMode;
  tempo: Tempo;
  metronome: boolean;
  dawNow: () => number;
  onMode(mode: PlayMode): void;
  onBpm(bpm: number): void;
  onRunning(running: boolean): void;
  onBeatsPerBar(beats: number): void;
  onMetronome(on: boolean): void;
}) {
  return (
    <div class="timing" data-testid="timing">
      <fieldset class="segmented" aria-label="Play mode">
        {(['instant', 'steady'] as const).map((mode) => (
          <button
            type="button"
            aria-pressed={props.mode === mode}
            class={props.mode === mode ? 'selected' : ''}
            data-testid={`mode-${mode}`}
            title={MODE_TITLE[mode]}
            onClick={() => props.onMode(mode)}
          >
            {mode === 'instant' ? 'Instant' : 'Steady'}
          </button>
        ))}
      </fieldset>
      <label class="bpm">
        <input
          type="number"
          data-testid="bpm"
          min={MIN_BPM}
          max={MAX_BPM}
          step="1"
          value={props.tempo.bpm}
          onChange={(event) => {
            const bpm = Number(event.currentTarget.value);
            if (Number.isFinite(bpm) && bpm > 0) props.onBpm(bpm);
            event.currentTarget.value = String(props.tempo.bpm);
          }}
        />{' '}
        BPM
      </label>
      <label title="Beats per bar: the beat light and the click accent the first">
        <select
          data-testid="beats-per-bar"
          value={props.tempo.beatsPerBar}
          onChange={(event) => props.onBeatsPerBar(Number(event.currentTarget.value))}
        >
          {[2, 3, 4, 5, 6, 7].map((beats) => (
            <option value={beats}>{beats}/4</option>
          ))}
        </select>
      </label>
      <button
        type="button"
        class="small"
        data-testid="beat-toggle"
        aria-pressed={props.tempo.running}
        onClick={() => props.onRunning(!props.tempo.running)}
      >
        {props.tempo.running ? 'Stop beat' : 'Start beat'}
      </button>
      <BeatLight tempo={props.tempo} dawNow={props.dawNow} />
      <label class="muted">
        <input
          type="checkbox"
          data-testid="metronome"
          checked={props.metronome}
          onChange={(event) => props.onMetronome(event.currentTarget.checked)}
        />{' '}
        Click
      </label>
    </div>
  );
}
