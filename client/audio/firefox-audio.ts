/**
 * What Firefox's Web Audio lacks that the kit renderer (render-kit.ts) uses, and the stand-ins.
 * Both are missing in Firefox (MDN browser-compat data; Firefox ESR 153 here):
 * - `AudioParam.cancelAndHoldAtTime` (bugzil.la/1308431). Tone.js calls it on the native param
 *   only from its own Param.cancelAndHoldAtTime (every ramp's setRampPoint, envelopes), and there
 *   always follows it with `setValueAtTime(<the value at that time, from its own timeline>, time)`.
 *   So cancelling the events from that time on is all Tone needs of it: the held value is set next.
 *   Without it, rendering the built-in kit threw at its first envelope and a Firefox DAW had no sound.
 * - `OfflineAudioContext.suspend(time)` (bugzil.la/1265406): see `canSuspendOffline`.
 */

type HoldingParam = AudioParam & { cancelAndHoldAtTime?: (time: number) => AudioParam };

/** Gives AudioParam a cancelAndHoldAtTime where the browser has none (see above). Idempotent. */
export function ensureCancelAndHold(): void {
  const proto = globalThis.AudioParam?.prototype as HoldingParam | undefined;
  if (!proto || typeof proto.cancelAndHoldAtTime === 'function') return;
  Object.defineProperty(proto, 'cancelAndHoldAtTime', {
    configurable: true,
    writable: true,
    value(this: AudioParam, time: number): AudioParam {
      return this.cancelScheduledValues(time);
    },
  });
}

/**
 * Whether an OfflineAudioContext can suspend at a time during its render (Chromium, Safari; not
 * Firefox, where the method is missing). Without it the renderer cannot cut a finished sound's
 * graph mid-render; it zeroes that sound's channel from the same frame afterwards instead: the
 * same samples, only more work for the render thread.
 */
export const canSuspendOffline = (context: OfflineAudioContext): boolean =>
  typeof (context as { suspend?: unknown }).suspend === 'function';
