/**
 * The master's soft clipper, shared by the sampler engine (engine.ts) and today's Tone voices
 * (tone-voices.ts). A soft-knee waveshaper, not a DynamicsCompressorNode, because Chromium's
 * compressor delays its output by a fixed look-ahead (288 samples, ~6 ms, measured offline).
 */

/** Input range the master bus accepts before the soft clipper is at its ceiling (×8 = +18 dB over full scale). */
export const HEADROOM = 8;
/** Below this the clipper is exactly linear (−4.4 dBFS). */
export const KNEE = 0.6;
/** The clipper's output never exceeds this (−0.2 dBFS). */
export const CEILING = 0.98;

/**
 * The master clipper's curve. The WaveShaper maps input −1..1; the bus divides by HEADROOM first,
 * so the curve sees u = HEADROOM·x: linear up to KNEE, then a tanh knee that approaches CEILING.
 * Continuous slope at the knee, so hits below −4.4 dBFS pass untouched and pile-ups round off.
 */
export function softClipCurve(): Float32Array<ArrayBuffer> {
  const n = 8193; // odd, so x = 0 is a point; 16/8192 steps of u, and linear interpolation in between
  const curve = new Float32Array(n);
  const span = CEILING - KNEE;
  for (let i = 0; i < n; i++) {
    const u = HEADROOM * ((2 * i) / (n - 1) - 1);
    const a = Math.abs(u);
    const y = a <= KNEE ? a : KNEE + span * Math.tanh((a - KNEE) / span);
    curve[i] = u < 0 ? -y : y;
  }
  return curve;
}
