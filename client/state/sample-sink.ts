/**
 * Where a kit's sounds go: the SampleSink the kit store hands every pad's sound and settings to
 * (the drum engine's setSlotSound / setSlotSettings), and a wrapper that keeps what it was last
 * told per slot in a Solid store, so the page (and its tests) can see what reached the engine.
 */
import { createStore } from 'solid-js/store';
import { DEFAULT_SLOT_SETTINGS, SLOTS_PER_BANK, type SlotSettings, type SoundLayers } from '../audio/sound.ts';

export interface SampleSink {
  /** The engine's sample rate: every sound is handed over at this rate. */
  readonly sampleRate: number;
  /** The slot plays this sound (null: silence). */
  setSlotSound(slot: number, sound: SoundLayers | null): void;
  setSlotSettings(slot: number, settings: SlotSettings): void;
  /** The slot plays the built-in kit's sound again. */
  useBuiltIn(slot: number): void;
}

/** What a slot was last told. */
export interface SlotSeen {
  source: 'built-in' | 'sample' | 'silence';
  /** The first layer's length in frames, its channels and rate (0 unless a sample). */
  frames: number;
  channels: number;
  sampleRate: number;
  settings: SlotSettings;
  /** How many times a sound was handed over for this slot. */
  handed: number;
}

/** The sink `inner` (none yet: the engine in this build has no slots), watched, for bank 0's slots. */
export function observeSink(inner: SampleSink | null, sampleRate: number) {
  const [slots, setSlots] = createStore<SlotSeen[]>(
    Array.from({ length: SLOTS_PER_BANK }, () => ({
      source: 'built-in',
      frames: 0,
      channels: 0,
      sampleRate: 0,
      settings: { ...DEFAULT_SLOT_SETTINGS },
      handed: 0,
    })),
  );
  const watched = (slot: number) => Number.isInteger(slot) && slot >= 0 && slot < SLOTS_PER_BANK;
  const handed = (slot: number) => (slots[slot]?.handed ?? 0) + 1;
  const sink: SampleSink = {
    sampleRate: inner?.sampleRate ?? sampleRate,
    setSlotSound(slot, sound) {
      inner?.setSlotSound(slot, sound);
      if (!watched(slot)) return;
      const first = sound?.layers[0]?.sound;
      setSlots(slot, {
        source: first ? 'sample' : 'silence',
        frames: first?.channels[0]?.length ?? 0,
        channels: first?.channels.length ?? 0,
        sampleRate: first?.sampleRate ?? 0,
        handed: handed(slot),
      });
    },
    setSlotSettings(slot, settings) {
      inner?.setSlotSettings(slot, settings);
      if (watched(slot)) setSlots(slot, 'settings', { ...settings });
    },
    useBuiltIn(slot) {
      inner?.useBuiltIn(slot);
      if (watched(slot))
        setSlots(slot, { source: 'built-in', frames: 0, channels: 0, sampleRate: 0, handed: handed(slot) });
    },
  };
  return { sink, slots };
}

/** The rate a new AudioContext runs at here (the engine's, which makes its context the same way). */
export function deviceSampleRate(): number {
  try {
    const probe = new AudioContext();
    const rate = probe.sampleRate;
    void probe.close();
    return rate;
  } catch {
    return 48_000;
  }
}
