/**
 * The page of bench/engine-trigger.ts: the main-thread time of one trigger call, for the sampler
 * engine (client/audio/engine.ts) fed through its SharedArrayBuffer ring and through port
 * messages, beside today's Tone voices (client/audio/tone-voices.ts, the engine before issue 10),
 * in this one page, one engine alive at a time; and output underruns while hits come at a high rate.
 */
import { createDrumEngine, type DrumEngine } from '../../client/audio/engine.ts';
import { KIT } from '../../client/audio/kit.ts';
import { ELECTRONIC_KIT } from '../../client/audio/kits/index.ts';
import { renderKit } from '../../client/audio/render-kit.ts';
import type { SoundLayers } from '../../client/audio/sound.ts';
import { createToneVoicesEngine, type ToneVoicesEngine } from '../../client/audio/tone-voices.ts';
import { publishHarness } from './publish-harness.ts';

export type Contender = 'ring' | 'port' | 'tone';

export interface Calls {
  /** Main-thread time of each trigger call, ms. */
  callMs: number[];
  /** Calls that returned false. */
  refused: number;
}

export interface Flooded {
  sent: number;
  refused: number;
  /** The browser's underrun count for the contender's context before and after (NaN: not reported). */
  underrunsBefore: number;
  underrunsAfter: number;
  /** Wall-clock seconds the run took, and the longest gap between timer ticks (ms): the main thread's stalls. */
  seconds: number;
  longestGapMs: number;
  callMs: number[];
  /** The sampler's own counters over the run (null for Tone). */
  stats: ReturnType<DrumEngine['stats']> | null;
}

interface Harness {
  ready: boolean;
  isolated: boolean;
  sampleRate: number;
  run(contender: Contender, count: number, meanIntervalMs: number): Promise<Calls>;
  flood(contender: Contender, rate: number, seconds: number): Promise<Flooded>;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Stats = ReturnType<DrumEngine['stats']>;
/** The counters' change from `before` to `after` (the gauges, sounding and waiting, as after). */
function difference(after: Stats, before: Stats): Stats {
  const out = { ...after };
  for (const key of Object.keys(after) as (keyof Stats)[]) {
    if (key !== 'sounding' && key !== 'waiting' && key !== 'peakVoices' && key !== 'frame')
      out[key] = after[key] - before[key];
  }
  return out;
}

async function setup(): Promise<Harness> {
  // Today's kit, rendered once (at the rate every context here gets: the device's).
  const probe = new AudioContext({ latencyHint: 'interactive' });
  const sampleRate = probe.sampleRate;
  await probe.close();
  const kit: SoundLayers[] = [];
  await renderKit(ELECTRONIC_KIT, sampleRate, (pad, sound) => {
    kit[pad] = sound;
  });
  const { getContext } = await import('tone');

  // One engine alive at a time: each AudioContext has its own real-time render thread, and three
  // at once would take turns with the main thread on this machine's two cores.
  let current: { contender: Contender; engine: Pick<DrumEngine, 'trigger'>; dispose(): void } | null = null;
  let sampler: DrumEngine | null = null;
  let toneContext: AudioContext | null = null;
  const use = async (contender: Contender) => {
    if (current?.contender === contender) return current.engine;
    current?.dispose();
    sampler = null;
    toneContext = null;
    if (contender === 'tone') {
      const tone: ToneVoicesEngine = createToneVoicesEngine();
      await tone.start();
      // Tone's global context is now the Tone engine's, whose raw context is its native AudioContext.
      toneContext = getContext().rawContext as unknown as AudioContext;
      current = { contender, engine: tone, dispose: () => tone.dispose() };
    } else {
      const engine = createDrumEngine({ transport: contender });
      await engine.start();
      kit.forEach((sound, pad) => {
        engine.setSlotSound(pad, sound);
      });
      sampler = engine;
      current = { contender, engine, dispose: () => engine.dispose() };
    }
    await wait(300); // the new context settles (its first quanta, the sounds' messages)
    return current.engine;
  };
  const underruns = () => {
    if (sampler) return sampler.underruns;
    const events = (toneContext as (AudioContext & { playbackStats?: { underrunEvents?: number } }) | null)
      ?.playbackStats?.underrunEvents;
    return typeof events === 'number' ? events : Number.NaN;
  };
  return {
    ready: true,
    isolated: crossOriginIsolated,
    sampleRate,
    async run(contender, count, meanIntervalMs) {
      const engine = await use(contender);
      const result: Calls = { callMs: [], refused: 0 };
      return new Promise((resolve) => {
        let n = 0;
        // At random intervals (mean as asked), so calls fall at every phase of the audio thread's bursts.
        const next = () => {
          if (n >= count) return resolve(result);
          const pad = n % KIT.length;
          const t0 = performance.now();
          const played = engine.trigger(pad, 0.8, undefined, n % 4);
          result.callMs.push(performance.now() - t0);
          if (!played) result.refused++;
          n++;
          setTimeout(next, Math.random() * 2 * meanIntervalMs);
        };
        next();
      });
    },
    async flood(contender, rate, seconds) {
      const engine = await use(contender);
      const statsBefore = sampler?.stats() ?? null;
      const underrunsBefore = underruns();
      const total = Math.round(rate * seconds);
      const callMs: number[] = [];
      let sent = 0;
      let refused = 0;
      let longestGapMs = 0;
      const began = performance.now();
      let last = began;
      while (sent < total) {
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
        const due = Math.min(total, Math.floor(((now - began) / 1000) * rate));
        for (; sent < due; sent++) {
          const t0 = performance.now();
          if (!engine.trigger(sent % KIT.length, 0.8, undefined, sent % 4)) refused++;
          callMs.push(performance.now() - t0);
        }
        await wait(1);
      }
      const took = (performance.now() - began) / 1000;
      await wait(1500); // the audio thread catches up and reports; Chromium's playback statistics move about once a second
      return {
        sent,
        refused,
        underrunsBefore,
        underrunsAfter: underruns(),
        seconds: took,
        longestGapMs,
        callMs,
        stats:
          sampler !== null && statsBefore !== null ? difference((sampler as DrumEngine).stats(), statsBefore) : null,
      };
    },
  };
}

publishHarness(setup());
