/** The built-in kits, in the order the DAW offers them (the first is the default). */
import { ACOUSTIC_KIT } from './acoustic.ts';
import type { KitDesign } from './design.ts';
import { ELECTRONIC_KIT } from './electronic.ts';
import { PERCUSSION_KIT } from './percussion.ts';

export type { KitDesign, KitPadDesign } from './design.ts';
export { ACOUSTIC_KIT, ELECTRONIC_KIT, PERCUSSION_KIT };

export const BUILT_IN_KITS: readonly KitDesign[] = [ELECTRONIC_KIT, ACOUSTIC_KIT, PERCUSSION_KIT];
