import { For } from 'solid-js';
import { KEY_NAMES, SCALE_IDS, SCALES, type ScaleId } from '../audio/scales.ts';

/** The key and scale every melodic phone plays in (each player's instrument is on their row). */
export function BandControls(props: { keyIndex: number; scale: ScaleId; onChange(key: number, scale: ScaleId): void }) {
  return (
    <div class="band" data-testid="band">
      <label title="The key melodic phones play in: their lowest pad is its note">
        Key{' '}
        <select
          data-testid="band-key"
          value={props.keyIndex}
          onChange={(event) => props.onChange(Number(event.currentTarget.value), props.scale)}
        >
          <For each={[...KEY_NAMES]}>{(name, index) => <option value={index()}>{name}</option>}</For>
        </select>
      </label>
      <label title="The scale melodic phones' pads walk up, bottom left to top right">
        <select
          data-testid="band-scale"
          value={props.scale}
          onChange={(event) => props.onChange(props.keyIndex, event.currentTarget.value as ScaleId)}
        >
          <For each={SCALE_IDS}>{(id) => <option value={id}>{SCALES[id].name}</option>}</For>
        </select>
      </label>
    </div>
  );
}
