/**
 * The DAW page's MIDI: asks the browser for Web MIDI, keeps the chosen output and input by name
 * across plugging and unplugging (statechange), runs MIDI out (midi-out.ts), the clock (clock.ts)
 * and MIDI in (a controller's notes play the pads as this computer's hits), and says plainly
 * when there is no Web MIDI, no permission, no port, or the chosen port is gone. Whatever
 * happens here, the jam goes on with sound on this computer: local sound is off only while an
 * output is chosen, connected, and the switch says so.
 */
import { createStore } from 'solid-js/store';
import type { Tempo } from '../net/hits.ts';
import type { ChannelPlan } from './channels.ts';
import { MidiClock } from './clock.ts';
import type { MidiOut } from './midi-out.ts';
import { GM_DRUM_NOTES, padOfNote, padTable } from './note-map.ts';
import { loadSettings, type MidiSettings, storeSettings } from './settings.ts';

export type MidiState =
  /** This browser has no Web MIDI (Safari; Firefox without its site permission add-on). */
  | 'unsupported'
  /** Not asked yet (asking may show the browser's permission prompt, so it waits for a click). */
  | 'off'
  | 'asking'
  /** The browser (or the user) refused the permission. */
  | 'denied'
  /** Permission given, but the browser could not start MIDI on this computer (no MIDI system). */
  | 'unavailable'
  | 'no-ports'
  /** The chosen output or input is not connected (unplugged, or its app closed). */
  | 'unplugged'
  | 'ready';

export interface MidiView {
  state: MidiState;
  /** The browser's words when access failed. */
  error: string;
  /** Names of the connected ports. */
  outputs: string[];
  inputs: string[];
  settings: MidiSettings;
  /** Chosen ports that are not connected now (their names). */
  missing: string[];
  /** Notes from the input that played a pad, and those that are no pad's. */
  heard: number;
  ignored: number;
  /** Whether this computer plays sound now (off only with an output connected and local sound off). */
  localSound: boolean;
}

export interface MidiSessionOptions {
  /** Plays a pad as this computer (the jam's playLocal). */
  play(pad: number, velocity: number): void;
  tempo(): Tempo;
  /** Silences this computer's speakers, or not. */
  setMuted(muted: boolean): void;
}

const NOTE_ON = 0x90;

const supported = (): boolean => typeof navigator !== 'undefined' && typeof navigator.requestMIDIAccess === 'function';

export function createMidiSession(out: MidiOut, options: MidiSessionOptions) {
  const initial = loadSettings();
  const [view, setView] = createStore<MidiView>({
    state: supported() ? 'off' : 'unsupported',
    error: '',
    outputs: [],
    inputs: [],
    settings: initial,
    missing: [],
    heard: 0,
    ignored: 0,
    localSound: true,
  });
  let settings = initial;
  out.setGateMs(settings.gateMs);
  out.setPlan({ mode: settings.mode, channel: settings.channel });
  const clock = new MidiClock(() => out.output, options.tempo);
  let access: MIDIAccess | null = null;
  let input: MIDIInput | null = null;
  let disposed = false;
  let pads = padTable(GM_DRUM_NOTES);

  const onNote = (event: MIDIMessageEvent) => {
    const data = event.data;
    if (!data || data.length < 3 || ((data[0] as number) & 0xf0) !== NOTE_ON || data[2] === 0) return;
    const pad = padOfNote(data[1] as number, pads);
    if (pad < 0) {
      setView('ignored', (n) => n + 1);
      return;
    }
    out.withoutEcho(options.play, pad, data[2] as number);
    setView('heard', (n) => n + 1);
  };

  const connected = <P extends MIDIPort>(ports: Iterable<P>): P[] => [...ports].filter((p) => p.state === 'connected');

  /** Ports as they are now → the chosen ones in use, the state and the view. */
  const refresh = () => {
    if (access === null || disposed) return;
    const outputs = connected(access.outputs.values());
    const inputs = connected(access.inputs.values());
    const output = settings.output === null ? null : (outputs.find((p) => p.name === settings.output) ?? null);
    const nextInput = settings.input === null ? null : (inputs.find((p) => p.name === settings.input) ?? null);
    out.setOutput(output);
    if (nextInput !== input) {
      if (input) input.onmidimessage = null;
      input = nextInput;
      if (input) input.onmidimessage = onNote; // opens the port
    }
    const missing: string[] = [];
    if (settings.output !== null && output === null) missing.push(settings.output);
    if (settings.input !== null && nextInput === null) missing.push(settings.input);
    const state: MidiState =
      missing.length > 0 ? 'unplugged' : outputs.length + inputs.length === 0 ? 'no-ports' : 'ready';
    setView({
      state,
      outputs: outputs.map((p) => p.name ?? p.id),
      inputs: inputs.map((p) => p.name ?? p.id),
      missing,
    });
    applySound();
    clock.pump();
  };

  const applySound = () => {
    const local = settings.localSound || out.output === null;
    options.setMuted(!local);
    setView('localSound', local);
  };

  const change = (next: Partial<MidiSettings>) => {
    settings = { ...settings, ...next };
    setView('settings', settings);
    storeSettings(settings);
  };

  async function enable(): Promise<void> {
    if (!supported() || access !== null || view.state === 'asking') return;
    setView({ state: 'asking', error: '' });
    try {
      const granted = await navigator.requestMIDIAccess({ sysex: false });
      if (disposed) return;
      access = granted;
      access.addEventListener('statechange', refresh);
      refresh();
    } catch (error) {
      if (disposed) return;
      const named = error as { name?: string; message?: string };
      const refused = named.name === 'NotAllowedError' || named.name === 'SecurityError';
      setView({
        state: refused ? 'denied' : 'unavailable',
        error: `${named.name ?? 'Error'}: ${named.message ?? String(error)}`,
      });
    }
  }

  const onPageHide = () => {
    out.endNotes();
    clock.setEnabled(false);
  };
  const onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) clock.setEnabled(settings.clock);
  };
  const onVisibility = () => clock.pump();
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibility);
  clock.setEnabled(settings.clock);
  // Ports chosen on an earlier visit: asking again (the browser remembers its answer) finds them.
  if (supported() && (settings.output !== null || settings.input !== null)) void enable();

  return {
    view,
    enable,
    setOutput(name: string | null) {
      change({ output: name });
      refresh();
    },
    setInput(name: string | null) {
      change({ input: name });
      refresh();
    },
    setGateMs(ms: number) {
      out.setGateMs(ms);
      change({ gateMs: out.gateMs });
    },
    setPlan(plan: ChannelPlan) {
      out.setPlan(plan);
      change({ mode: out.plan.mode, channel: out.plan.channel });
    },
    setClock(on: boolean) {
      change({ clock: on });
      clock.setEnabled(on);
    },
    setLocalSound(on: boolean) {
      change({ localSound: on });
      applySound();
    },
    /** The drum kit's notes (note-map.ts drumNotesFor): out, and back to pads for notes coming in. */
    setDrumNotes(notes: readonly number[]) {
      out.setDrumNotes(notes);
      pads = padTable(notes);
    },
    /** The tempo changed: Start, Stop and ticks follow at once rather than at the next timer. */
    tempoChanged: () => clock.pump(),
    dispose() {
      disposed = true;
      window.removeEventListener('pagehide', onPageHide);
      window.removeEventListener('pageshow', onPageShow);
      document.removeEventListener('visibilitychange', onVisibility);
      access?.removeEventListener('statechange', refresh);
      if (input) input.onmidimessage = null;
      out.endNotes();
      clock.dispose();
      out.setOutput(null);
      options.setMuted(false);
    },
  };
}

export type MidiSession = ReturnType<typeof createMidiSession>;
