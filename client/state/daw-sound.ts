/**
 * What the DAW's engine plays, slot by slot: bank 0 is the room's drum kit (a built-in kit's
 * rendered sounds, with the musician's own samples on the pads they loaded), and banks 1..7 each
 * hold a melodic part's rendered notes (state/sound-banks.ts says which). Renders start once
 * sound runs; the renderers and their kit designs (and with them Tone.js) load on demand, so the
 * DAW page opens without them.
 */
import { createSignal } from 'solid-js';
import type { DrumEngine } from '../audio/engine.ts';
import { type MelodicId, type Part, partKey } from '../audio/instruments.ts';
import { BANKS, SLOTS_PER_BANK, type SoundLayers } from '../audio/sound.ts';
import { saveBuiltInKit, savedBuiltInKit } from './daw-storage.ts';
import { type BuiltInLook, createKitStore } from './kit-store.ts';
import { observeSink, type SampleSink } from './sample-sink.ts';
import { SoundBanks } from './sound-banks.ts';

/** The built-in kits the DAW offers, in order (their designs: audio/kits/). Pure data: no Tone here. */
export const BUILT_IN_KIT_CHOICES = [
  { id: 'electronic', name: 'Electronic' },
  { id: 'acoustic', name: 'Acoustic' },
  { id: 'percussion', name: 'Percussion' },
] as const;
export type BuiltInKitId = (typeof BUILT_IN_KIT_CHOICES)[number]['id'];

const isKitId = (id: string | null): id is BuiltInKitId => BUILT_IN_KIT_CHOICES.some((kit) => kit.id === id);

export type KitState = 'waiting' | 'loading' | 'ready' | 'failed';

export function createDawSound(engine: DrumEngine, builtInLooks: readonly BuiltInLook[]) {
  /** Each bank-0 pad's built-in sound once rendered: a pad without the musician's sample plays it. */
  const builtIn: (SoundLayers | undefined)[] = [];
  const engineSink: SampleSink = {
    sampleRate: engine.sampleRate,
    setSlotSound: (slot, sound) => engine.setSlotSound(slot, sound),
    setSlotSettings: (slot, settings) => engine.setSlotSettings(slot, settings),
    useBuiltIn: (slot) => engine.setSlotSound(slot, builtIn[slot] ?? null),
  };
  const samples = observeSink(engineSink, engine.sampleRate);
  const kits = createKitStore(samples.sink, { builtInLooks });

  const saved = savedBuiltInKit();
  /** The chosen built-in kit's pads (names, colours, choke groups): what a pad without a sample shows. */
  const [looks, setLooks] = createSignal<readonly BuiltInLook[]>(builtInLooks);
  const [kitId, setKitId] = createSignal<BuiltInKitId>(isKitId(saved) ? saved : 'electronic');
  const [kitState, setKitState] = createSignal<KitState>('waiting');
  /** Why the rendered kit is not kept for next time (storage full, private mode), or null. */
  const [cacheProblem, setCacheProblem] = createSignal<string | null>(null);
  let kitLoad: AbortController | null = null;

  /** Renders (or reads back) the chosen built-in kit into bank 0; each pad plays as it is ready. */
  async function renderBuiltIn(): Promise<void> {
    if (engine.state !== 'running') return;
    kitLoad?.abort();
    const load = new AbortController();
    kitLoad = load;
    setKitState('loading');
    try {
      const [{ BUILT_IN_KITS }, { renderKit }] = await Promise.all([
        import('../audio/kits/index.ts'),
        import('../audio/render-kit.ts'),
      ]);
      const design = BUILT_IN_KITS.find((kit) => kit.id === kitId()) ?? BUILT_IN_KITS[0];
      if (!design || load.signal.aborted) return;
      const status = await renderKit(
        design,
        engine.sampleRate,
        (pad, sound) => {
          if (load.signal.aborted) return;
          builtIn[pad] = sound;
          if (kits.view.pads[pad]?.sample === null) engine.setSlotSound(pad, sound);
        },
        load.signal,
      );
      setCacheProblem(status.cacheError);
      setKitState('ready');
    } catch (error) {
      if (load.signal.aborted) return;
      setKitState('failed');
      console.error('padmesh: the kit did not load', error);
    }
  }

  const banks = new SoundBanks(BANKS);
  /** Each melodic bank's part once its notes are in the engine (until then its players play the drums). */
  const ready = new Map<number, string>();
  /** Bumped when a bank becomes ready: the page then places its players again. */
  const [banksChanged, setBanksChanged] = createSignal(0);
  const [partProblem, setPartProblem] = createSignal<string | null>(null);

  return {
    kits,
    samples,
    kitId,
    builtInLooks: looks,
    kitState,
    cacheProblem,
    partProblem,
    /** Call when the engine's state changes: the kit renders once it runs. */
    started() {
      if (engine.state === 'running' && kitState() === 'waiting') void renderBuiltIn();
    },
    /** Another built-in kit: its sounds for the pads without samples, its names on those pads. */
    async chooseKit(id: BuiltInKitId) {
      setKitId(id);
      if (engine.state === 'running') setKitState('loading');
      saveBuiltInKit(id);
      const { BUILT_IN_KITS } = await import('../audio/kits/index.ts');
      const design = BUILT_IN_KITS.find((kit) => kit.id === id);
      if (!design) return;
      builtIn.length = 0;
      const next = design.pads.map(({ name, color, chokeGroup }) => ({ name, color, chokeGroup: chokeGroup ?? 0 }));
      setLooks(next);
      await kits.useBuiltInLooks(next);
      if (engine.state === 'running') await renderBuiltIn();
      else setKitState('waiting');
    },
    /** Changes when a melodic bank's notes are ready (read it to place players again then). */
    banksChanged,
    /**
     * What each controller plays (call again when that or the engine's state changes): melodic
     * parts get a bank, rendered when new. Returns where each player's pads are in the engine
     * (their first slot: 0, the drums, until their part's notes are ready, so no tap meets an
     * empty slot) and the players no bank was free for (they play the drums).
     */
    setParts(parts: ReadonlyMap<string, Part>): { slotBase: Map<string, number>; unplaced: string[] } {
      if (engine.state !== 'running') {
        return { slotBase: new Map([...parts.keys()].map((peerId) => [peerId, 0])), unplaced: [] };
      }
      const update = banks.update(parts);
      for (const { bank, part } of update.loads) {
        const key = partKey(part);
        ready.delete(bank);
        void import('../audio/instrument-voices.ts')
          .then(({ melodicKit }) => engine.loadKit(melodicKit(part as Part & { instrument: MelodicId }), bank))
          .then(
            () => {
              ready.set(bank, key);
              setBanksChanged((n) => n + 1);
            },
            (error: unknown) => {
              if ((error as Error)?.name === 'AbortError') return; // a newer part took the bank
              setPartProblem(`${part.instrument} did not load: ${String(error)}`);
              console.error('padmesh: a melodic part did not load', error);
            },
          );
      }
      const slotBase = new Map<string, number>();
      for (const [peerId, base] of update.slotBase) {
        const bank = base / SLOTS_PER_BANK;
        const part = parts.get(peerId);
        const placed = bank === 0 || (part !== undefined && ready.get(bank) === partKey(part));
        slotBase.set(peerId, placed ? base : 0);
      }
      return { slotBase, unplaced: update.unplaced };
    },
    dispose() {
      kitLoad?.abort();
      kits.dispose();
    },
  };
}
