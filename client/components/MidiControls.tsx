import { For, Show } from 'solid-js';
import { CHANNEL_MODES, type ChannelMode, channelName } from '../midi/channels.ts';
import { MAX_GATE_MS, MIN_GATE_MS } from '../midi/midi-out.ts';
import type { MidiSession, MidiState } from '../midi/midi-session.ts';

const MODE_NAMES: Record<ChannelMode, string> = {
  'drums-on-10': 'Drums on 10, each melodic player their own',
  'per-player': 'Each player their own channel',
  one: 'Everyone on one channel',
};

/** What the page says about MIDI, plainly; every case but `ready` ends with the jam going on here. */
function stateText(state: MidiState, missing: string[], error: string): string {
  switch (state) {
    case 'unsupported':
      return 'This browser has no Web MIDI (Safari has none; Firefox asks for its site permission add-on). The jam plays here as usual.';
    case 'off':
      return 'MIDI is off. Use MIDI to send the jam to your music software, or play the pads from a MIDI controller.';
    case 'asking':
      return 'Asking the browser for MIDI…';
    case 'denied':
      return `The browser refused MIDI (${error}). Allow MIDI for this site in its settings and try again; the jam plays here meanwhile.`;
    case 'unavailable':
      return `MIDI could not start on this computer (${error}). The jam plays here as usual.`;
    case 'no-ports':
      return 'No MIDI ports. Connect a device, or make a virtual port (see the README); the jam plays here meanwhile.';
    case 'unplugged':
      return `Not connected: ${missing.join(', ')}. It is used again as soon as it is back; sound plays here meanwhile.`;
    case 'ready':
      return '';
  }
}

/** The DAW's MIDI: output, input, channels, note length, clock, local sound (client/midi/). */
export function MidiControls(props: { midi: MidiSession }) {
  const view = props.midi.view;
  const portChoices = (ports: string[], chosen: string | null) =>
    chosen !== null && !ports.includes(chosen) ? [...ports, chosen] : ports;
  return (
    <div class="midi" data-testid="midi" data-state={view.state}>
      <Show when={view.state !== 'ready'}>
        <p class={view.state === 'off' || view.state === 'asking' ? 'muted' : 'warning'} data-testid="midi-status">
          {stateText(view.state, view.missing, view.error)}
        </p>
      </Show>
      <Show when={view.state === 'off' || view.state === 'denied' || view.state === 'unavailable'}>
        <button type="button" class="small" data-testid="midi-enable" onClick={() => void props.midi.enable()}>
          {view.state === 'off' ? 'Use MIDI' : 'Try MIDI again'}
        </button>
      </Show>
      <Show when={view.state === 'ready' || view.state === 'no-ports' || view.state === 'unplugged'}>
        <div class="timing">
          <label>
            Out{' '}
            <select
              data-testid="midi-output"
              value={view.settings.output ?? ''}
              onChange={(event) => props.midi.setOutput(event.currentTarget.value || null)}
            >
              <option value="">none</option>
              <For each={portChoices(view.outputs, view.settings.output)}>
                {(name) => <option value={name}>{name}</option>}
              </For>
            </select>
          </label>
          <label title="A MIDI controller whose notes play the pads (General MIDI drum notes), as this computer">
            In{' '}
            <select
              data-testid="midi-input"
              value={view.settings.input ?? ''}
              onChange={(event) => props.midi.setInput(event.currentTarget.value || null)}
            >
              <option value="">none</option>
              <For each={portChoices(view.inputs, view.settings.input)}>
                {(name) => <option value={name}>{name}</option>}
              </For>
            </select>
          </label>
          <label title="Which MIDI channel each player's notes go out on">
            <select
              data-testid="midi-channels"
              value={view.settings.mode}
              onChange={(event) =>
                props.midi.setPlan({ mode: event.currentTarget.value as ChannelMode, channel: view.settings.channel })
              }
            >
              <For each={CHANNEL_MODES}>{(mode) => <option value={mode}>{MODE_NAMES[mode]}</option>}</For>
            </select>
          </label>
          <Show when={view.settings.mode === 'one'}>
            <label>
              channel{' '}
              <select
                data-testid="midi-channel"
                value={view.settings.channel}
                onChange={(event) => props.midi.setPlan({ mode: 'one', channel: Number(event.currentTarget.value) })}
              >
                <For each={Array.from({ length: 16 }, (_, i) => i)}>
                  {(channel) => <option value={channel}>{channelName(channel)}</option>}
                </For>
              </select>
            </label>
          </Show>
          <label title="How long each note is held before its note-off">
            <input
              type="number"
              data-testid="midi-gate"
              min={MIN_GATE_MS}
              max={MAX_GATE_MS}
              step="1"
              value={view.settings.gateMs}
              onChange={(event) => {
                props.midi.setGateMs(Number(event.currentTarget.value));
                event.currentTarget.value = String(view.settings.gateMs);
              }}
            />{' '}
            ms notes
          </label>
          <label
            class="muted"
            title="MIDI clock (24 a beat) from this tempo, with Start and Stop as the beat starts and stops"
          >
            <input
              type="checkbox"
              data-testid="midi-clock"
              checked={view.settings.clock}
              onChange={(event) => props.midi.setClock(event.currentTarget.checked)}
            />{' '}
            clock out
          </label>
          <label class="muted" title="Off: only the software you send MIDI to plays (while the output is connected)">
            <input
              type="checkbox"
              data-testid="midi-local-sound"
              data-playing={view.localSound}
              checked={view.settings.localSound}
              onChange={(event) => props.midi.setLocalSound(event.currentTarget.checked)}
            />{' '}
            sound here
          </label>
          <Show when={view.heard + view.ignored > 0}>
            <span class="muted" data-testid="midi-in-count" data-heard={view.heard} data-ignored={view.ignored}>
              in: {view.heard} played{view.ignored > 0 ? `, ${view.ignored} not on a pad` : ''}
            </span>
          </Show>
        </div>
      </Show>
    </div>
  );
}
