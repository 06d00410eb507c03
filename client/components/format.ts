/** A duration in ms as people read it: one decimal below 10 ms, whole above. */
export const formatMs = (value: number): string => (value < 10 ? value.toFixed(1) : value.toFixed(0));
