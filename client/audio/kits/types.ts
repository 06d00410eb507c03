// PLACEHOLDER until the kit-render branch merges (it defines these in client/audio/kits/): ENGINE-V2.md's shapes.
import type { BaseContext, InputNode } from 'tone';

export interface KitPadDesign {
  id: string;
  name: string;
  color: string;
  chokeGroup?: number;
  layers: readonly number[];
  length: number;
  play(context: BaseContext, out: InputNode, time: number, velocity: number): void;
}
export interface KitDesign {
  id: string;
  version: number;
  name: string;
  pads: readonly KitPadDesign[];
}
