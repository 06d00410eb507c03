/**
 * The page of bench/engine-trigger.ts: the main-thread time of one trigger call, for the sampler
 * engine (client/audio/engine.ts) fed through its SharedArrayBuffer ring and through port
 * messages, beside today's Tone voices (client/audio/tone-voices.ts, the engine before issue 10),
 * all three alive in this one page; and output underruns while hits come at a high rate.
 */
import { createDrumEngine, type DrumEngine } from '../../client/audio/engine.ts';
import { KIT } from '../../client/audio/kit.ts';
import { PLACEHOLDER_KIT, renderKit } from '../../client/audio/render-kit.ts';
import { createToneVoicesEngine, type ToneVoicesEngine } from '../../client/audio/tone-voices.ts';

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
  const ring = createDrumEngine({ transport: 'ring' });
  const port = createDrumEngine({ transport: 'port' });
  await Promise.all([ring.start(), port.start()]);
  // Today's kit, rendered once, into both samplers.
  await renderKit(PLACEHOLDER_KIT, ring.sampleRate, (pad, sound) => {
    ring.setSlotSound(pad, sound);
    port.setSlotSound(pad, sound);
  });
  const tone: ToneVoicesEngine = createToneVoicesEngine();
  await tone.start();
  // Tone's global context is now the Tone engine's, whose raw context is its native AudioContext.
  const { getContext } = await import('tone');
  const toneContext = getContext().rawContext as unknown as AudioContext;
  const engines: Record<Contender, Pick<DrumEngine, 'trigger'>> = { ring, port, tone };
  const underruns = (contender: Contender) => {
    if (contender !== 'tone') return (contender === 'ring' ? ring : port).underruns;
    const events = (toneContext as AudioContext & { playbackStats?: { underrunEvents?: number } }).playbackStats
      ?.underrunEvents;
    return typeof events === 'number' ? events : Number.NaN;
  };
  return {
    ready: true,
    isolated: crossOriginIsolated,
    sampleRate: ring.sampleRate,
    run(contender, count, meanIntervalMs) {
      const engine = engines[contender];
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
      const engine = engines[contender];
      const sampler = contender === 'tone' ? null : contender === 'ring' ? ring : port;
      const statsBefore = sampler?.stats() ?? null;
      const underrunsBefore = underruns(contender);
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
        underrunsAfter: underruns(contender),
        seconds: took,
        longestGapMs,
        callMs,
        stats: sampler && statsBefore ? difference(sampler.stats(), statsBefore) : null,
      };
    },
  };
}

const w = window as unknown as { harness?: Harness; harnessError?: string };
setup().then(
  (harness) => {
    w.harness = harness;
  },
  (error: unknown) => {
    w.harnessError = String(error);
  },
);
