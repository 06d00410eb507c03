/**
 * Which engine bank holds which melodic part. Bank 0 is the room's drum kit; every other bank
 * holds one part's 16 rendered notes (an instrument from an octave of the band's key and scale),
 * shared by every player on that part. When the band changes this says which banks to render
 * anew and where each player's hits go; a bank keeps its part while anyone plays it, so a change
 * for one player never re-renders another's notes. Pure: DawPage carries it out on the engine.
 */
import { type Part, partKey } from '../audio/instruments.ts';

export interface BankLoad {
  bank: number;
  part: Part;
}

export interface BankUpdate {
  /** Banks to render with a part (a new part, or a bank that held one no longer played). */
  loads: BankLoad[];
  /** Each player's first slot (bank × 16): 0 for the drum kit, and for a part no bank was free for. */
  slotBase: Map<string, number>;
  /** Players whose part found no free bank: they play the drum kit until one is free. */
  unplaced: string[];
}

export const SLOTS_PER_BANK = 16;

export class SoundBanks {
  /** Part key held by each melodic bank (index 0 unused: the kit), or null. */
  private readonly held: (string | null)[];

  /** `banks`: how many the engine has, the kit's included. */
  constructor(banks: number) {
    this.held = Array.from({ length: banks }, () => null);
  }

  update(parts: ReadonlyMap<string, Part>): BankUpdate {
    const wanted = new Map<string, Part>();
    for (const part of parts.values()) if (part.instrument !== 'drums') wanted.set(partKey(part), part);
    // Banks whose part nobody plays any more are free again.
    for (let bank = 1; bank < this.held.length; bank++) {
      const key = this.held[bank];
      if (key !== null && key !== undefined && !wanted.has(key)) this.held[bank] = null;
    }
    const loads: BankLoad[] = [];
    const bankOf = new Map<string, number>();
    for (let bank = 1; bank < this.held.length; bank++) {
      const key = this.held[bank];
      if (key !== null && key !== undefined) bankOf.set(key, bank);
    }
    for (const [key, part] of wanted) {
      if (bankOf.has(key)) continue;
      const free = this.held.indexOf(null, 1);
      if (free < 0) continue;
      this.held[free] = key;
      bankOf.set(key, free);
      loads.push({ bank: free, part });
    }
    const slotBase = new Map<string, number>();
    const unplaced: string[] = [];
    for (const [peerId, part] of parts) {
      if (part.instrument === 'drums') {
        slotBase.set(peerId, 0);
        continue;
      }
      const bank = bankOf.get(partKey(part));
      if (bank === undefined) unplaced.push(peerId);
      slotBase.set(peerId, (bank ?? 0) * SLOTS_PER_BANK);
    }
    return { loads, slotBase, unplaced };
  }
}
