/**
 * The DAW's MIDI settings, remembered between visits (state/storage.ts). Ports are kept by name:
 * a port's id can change when it is plugged in again, its name does not. Read defensively:
 * storage is the user's, and may be from another version.
 */
import * as v from 'valibot';
import { savedMidi, saveMidi } from '../state/daw-storage.ts';
import { CHANNEL_MODES, type ChannelMode, DEFAULT_PLAN } from './channels.ts';
import { clampGateMs, DEFAULT_GATE_MS } from './midi-out.ts';

export interface MidiSettings {
  /** The output's name, or null for none. */
  output: string | null;
  /** The input's name (a controller that plays the pads), or null for none. */
  input: string | null;
  gateMs: number;
  mode: ChannelMode;
  /** For mode `one`: 0–15. */
  channel: number;
  clock: boolean;
  /** Sound on this computer while an output is chosen and connected (off: the DAW you send to plays). */
  localSound: boolean;
}

export const DEFAULT_SETTINGS: MidiSettings = {
  output: null,
  input: null,
  gateMs: DEFAULT_GATE_MS,
  mode: DEFAULT_PLAN.mode,
  channel: DEFAULT_PLAN.channel,
  clock: false,
  localSound: true,
};

const Name = v.nullable(v.pipe(v.string(), v.maxLength(200)));
const Schema = v.object({
  output: v.optional(Name, null),
  input: v.optional(Name, null),
  gateMs: v.optional(v.number(), DEFAULT_GATE_MS),
  mode: v.optional(v.picklist(CHANNEL_MODES), DEFAULT_PLAN.mode),
  channel: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(15)), DEFAULT_PLAN.channel),
  clock: v.optional(v.boolean(), false),
  localSound: v.optional(v.boolean(), true),
});

/** What was kept, each field checked on its own terms; the defaults for anything unreadable. */
export function loadSettings(text: string | null = savedMidi()): MidiSettings {
  if (text === null) return { ...DEFAULT_SETTINGS };
  try {
    const parsed = v.safeParse(Schema, JSON.parse(text));
    if (!parsed.success) return { ...DEFAULT_SETTINGS };
    return { ...parsed.output, gateMs: clampGateMs(parsed.output.gateMs) };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export const storeSettings = (settings: MidiSettings): void => saveMidi(JSON.stringify(settings));
