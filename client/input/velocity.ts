/**
 * How hard a pad was struck, 1–127. Phones do not report touch force usefully (iOS gives a
 * constant, Android a contact-size guess), so for fingers the velocity comes from where the
 * pad is struck: the centre plays full, the edge softly, like a drum head. A pen or stylus
 * that reports real pressure plays by pressure.
 */
export const CENTRE_VELOCITY = 127;
export const EDGE_VELOCITY = 40;

export function velocityAt(
  x: number,
  y: number,
  width: number,
  height: number,
  pointerType: string,
  pressure: number,
): number {
  if (pointerType === 'pen' && pressure > 0 && pressure <= 1) return Math.max(1, Math.round(pressure * 127));
  if (!(width > 0 && height > 0)) return CENTRE_VELOCITY;
  // Distance from the centre in the pad's own proportions: 0 at the centre, 1 on the border.
  const dx = Math.abs(x / width - 0.5) * 2;
  const dy = Math.abs(y / height - 0.5) * 2;
  const off = Math.min(1, Math.max(dx, dy));
  return Math.round(CENTRE_VELOCITY - (CENTRE_VELOCITY - EDGE_VELOCITY) * off);
}
