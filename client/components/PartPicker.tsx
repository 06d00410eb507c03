import { For, Show } from 'solid-js';
import { HOME_OCTAVE, INSTRUMENT_IDS, INSTRUMENTS, type InstrumentId, type Part } from '../audio/instruments.ts';
import { MAX_OCTAVE, MIN_OCTAVE, noteName, rootNote } from '../audio/scales.ts';

/** What one controller plays (the DAW's member row): the drum kit or an instrument, and from which octave. */
export function PartPicker(props: { part: Part; onChange(instrument: InstrumentId, octave: number): void }) {
  const melodic = () => props.part.instrument !== 'drums';
  return (
    <span
      class="part"
      data-testid="member-part"
      data-instrument={props.part.instrument}
      data-octave={props.part.octave}
    >
      <select
        aria-label="Instrument"
        data-testid="member-instrument"
        value={props.part.instrument}
        onChange={(event) => {
          // A new instrument starts where it sounds best (a bass low); the octave picker moves it.
          const instrument = event.currentTarget.value as InstrumentId;
          props.onChange(instrument, instrument === 'drums' ? props.part.octave : HOME_OCTAVE[instrument]);
        }}
      >
        <For each={INSTRUMENT_IDS}>{(id) => <option value={id}>{INSTRUMENTS[id].name}</option>}</For>
      </select>
      <Show when={melodic()}>
        <select
          aria-label="Lowest note"
          title="The lowest pad's note: the key's note in this octave"
          data-testid="member-octave"
          value={props.part.octave}
          onChange={(event) => props.onChange(props.part.instrument, Number(event.currentTarget.value))}
        >
          <For each={Array.from({ length: MAX_OCTAVE - MIN_OCTAVE + 1 }, (_, i) => MIN_OCTAVE + i)}>
            {(octave) => <option value={octave}>from {noteName(rootNote(props.part.key, octave))}</option>}
          </For>
        </select>
      </Show>
    </span>
  );
}
