/**
 * What both engines (the sampler, engine.ts, and today's Tone voices kept as the benchmark's
 * baseline, tone-voices.ts) do the same way at their output: the metronome's blip, the output
 * latency the browser reports, and the meter's peak. Off the hit path.
 */

/** A metronome click at context time `at` (or now, if that has passed) into `into`: a short sine blip, accented higher. */
export function playClick(context: AudioContext, into: AudioNode, at: number, accent: boolean): void {
  const time = Math.max(at, context.currentTime);
  const osc = context.createOscillator();
  const env = context.createGain();
  osc.frequency.value = accent ? 1760 : 1320;
  env.gain.setValueAtTime(0, time);
  env.gain.linearRampToValueAtTime(accent ? 2.4 : 1.6, time + 0.001);
  env.gain.exponentialRampToValueAtTime(0.001, time + 0.04);
  osc.connect(env);
  env.connect(into);
  osc.start(time);
  osc.stop(time + 0.05);
  osc.onended = () => env.disconnect();
}

/**
 * Whether `outputLatency` may be read here. Not in Firefox (Gecko): reading it on a running
 * context can freeze the page for good, its main thread and audio threads deadlocked inside the
 * browser (docs/troubleshooting.md, "A Firefox DAW froze"), and Firefox's `getOutputTimestamp()`
 * reads it too. Nothing in the page can tell in advance whether a read will deadlock, so Gecko is
 * told by its user agent (`Gecko/<date>`; Chromium and WebKit say "like Gecko").
 */
export const canReadOutputLatency = (userAgent = globalThis.navigator?.userAgent ?? ''): boolean =>
  !/\bGecko\/\d/.test(userAgent);

const OUTPUT_LATENCY_READABLE = canReadOutputLatency();

/**
 * What the browser reports: (baseLatency + outputLatency) in ms, or null if it reports neither
 * or cannot be asked safely (Firefox: see canReadOutputLatency; its baseLatency alone is 0).
 */
export function outputLatencyMs(context: AudioContext, readable = OUTPUT_LATENCY_READABLE): number | null {
  if (!readable) return null;
  const base = finiteOrNull(context.baseLatency);
  const output = finiteOrNull(context.outputLatency);
  if (base === null && output === null) return null;
  return ((base ?? 0) + (output ?? 0)) * 1000;
}

/** The output's peak over the analyser's window, in dBFS (−Infinity when silent); `samples` is the analyser's fftSize long. */
export function peakDb(analyser: AnalyserNode, samples: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(samples);
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] ?? 0;
    const a = s < 0 ? -s : s;
    if (a > peak) peak = a;
  }
  return peak > 0 ? 20 * Math.log10(peak) : Number.NEGATIVE_INFINITY;
}

function finiteOrNull(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
