/** A duration in ms as people read it: one decimal below 10 ms, whole above. */
export const formatMs = (value: number): string => (value < 10 ? value.toFixed(1) : value.toFixed(0));

/** As formatMs, but never below `value` (for an upper bound: "< 0.44" must not read "< 0.4"). */
const formatMsUp = (value: number): string => formatMs(value < 10 ? Math.ceil(value * 10) / 10 : Math.ceil(value));

/**
 * A measured one-way delay (arrival − tap time, through the clock offset) as people should read
 * it. No delay is negative: a measurement below 0 says the clock offset estimate is off by at
 * least that much, and the true delay lies between 0 and the estimate's uncertainty
 * (`uncertaintyMs`, half the clock samples' best round trip): "<x". Without a known uncertainty: "≈0".
 */
export function formatDelayMs(measured: number, uncertaintyMs: number | null | undefined): string {
  if (!(measured < 0)) return formatMs(measured);
  return uncertaintyMs !== null && uncertaintyMs !== undefined && uncertaintyMs > 0
    ? `<${formatMsUp(uncertaintyMs)}`
    : '≈0';
}

/** The tooltip for a measured delay below 0 (see formatDelayMs), or '' for one that is not. */
export const negativeDelayNote = (measured: number): string =>
  measured < 0
    ? `Measured ${measured.toFixed(2)} ms: the clock offset estimate is off by at least ${(-measured).toFixed(2)} ms, so the delay is too small to tell.`
    : '';
