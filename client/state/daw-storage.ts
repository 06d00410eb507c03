/** What only the DAW page remembers between visits (storage.ts says how, and why it may forget). */
import * as v from 'valibot';
import { type Access, AccessSchema, type Band, BandSchema } from '../../signal/protocol.ts';
import { local, read, write } from './storage.ts';

export interface DawRoom {
  room: string;
  hostToken: string;
  /** The room's lock and PIN: told to the server again after it restarts (it forgets them). */
  access?: Access;
  /** Who plays what: given back to the room after a server restart, or a reload the server did not see. */
  band?: Band;
}

/** The DAW's room, so a reload (or a new tab) takes it back instead of stranding the phones. */
export function savedDawRoom(): DawRoom | null {
  const text = read(local, 'padmesh.dawRoom');
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    const { room, hostToken, access, band } = parsed as Partial<DawRoom>;
    if (typeof room !== 'string' || typeof hostToken !== 'string') return null;
    const keptAccess = v.safeParse(AccessSchema, access);
    const keptBand = v.safeParse(BandSchema, band);
    return {
      room,
      hostToken,
      ...(keptAccess.success ? { access: keptAccess.output } : {}),
      ...(keptBand.success ? { band: keptBand.output } : {}),
    };
  } catch {
    return null;
  }
}
export const saveDawRoom = (room: DawRoom | null): void =>
  write(local, 'padmesh.dawRoom', room === null ? null : JSON.stringify(room));

/** The DAW's built-in kit (an id of audio/kits/), or null before one was chosen. */
export const savedBuiltInKit = (): string | null => read(local, 'padmesh.builtInKit');
export const saveBuiltInKit = (id: string): void => write(local, 'padmesh.builtInKit', id);

/** The DAW's MIDI settings (client/midi/settings.ts reads them defensively): ports by name, so a replug finds them. */
export const savedMidi = (): string | null => read(local, 'padmesh.midi');
export const saveMidi = (json: string): void => write(local, 'padmesh.midi', json);
