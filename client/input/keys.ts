/**
 * Laptop keys that play pads: four rows of the keyboard for the four rows of pads, by
 * physical key (`KeyboardEvent.code`), so the layout is the same on QWERTY, AZERTY and QWERTZ.
 */
const ROWS = [
  ['Digit1', 'Digit2', 'Digit3', 'Digit4'],
  ['KeyQ', 'KeyW', 'KeyE', 'KeyR'],
  ['KeyA', 'KeyS', 'KeyD', 'KeyF'],
  ['KeyZ', 'KeyX', 'KeyC', 'KeyV'],
];

const PAD_OF_CODE = new Map(ROWS.flatMap((row, r) => row.map((code, c) => [code, r * 4 + c] as const)));

/** The pad a key plays, or -1. */
export const padOfKey = (code: string): number => PAD_OF_CODE.get(code) ?? -1;

/** What to print on pad `pad`: the key's label on a US layout. */
export const keyLabel = (pad: number): string =>
  (ROWS[Math.floor(pad / 4)]?.[pad % 4] ?? '').replace(/^(Digit|Key)/, '');

/** Keys play at this velocity (1–127); with Shift, softer. */
export const KEY_VELOCITY = 110;
export const SOFT_KEY_VELOCITY = 60;
