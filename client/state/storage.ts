/**
 * What a browser remembers between visits. Storage can be missing or throw (Safari private
 * mode, disabled cookies): then everything still works, it is just forgotten.
 */
import { nanoid } from 'nanoid';
import * as v from 'valibot';
import { type Access, AccessSchema, type Band, BandSchema } from '../../signal/protocol.ts';

function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // Not remembered; nothing else to do.
  }
}

const local = () => localStorage;
const session = () => sessionStorage;

/** This browser's id, made once. nanoid uses crypto.getRandomValues, which plain-http pages have. */
export function deviceId(): string {
  let id = read(local, 'padmesh.deviceId');
  if (id === null) {
    id = nanoid();
    write(local, 'padmesh.deviceId', id);
  }
  return id;
}

export const savedName = (): string => read(local, 'padmesh.name') ?? '';
export const saveName = (name: string): void => write(local, 'padmesh.name', name.trim() || null);

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

/** A controller's resume token lives as long as the tab: a reload resumes, a new visit joins afresh. */
export const savedResumeToken = (room: string): string | undefined =>
  read(session, `padmesh.resume.${room}`) ?? undefined;
export const saveResumeToken = (room: string, token: string | null): void =>
  write(session, `padmesh.resume.${room}`, token);

/** The player's colour, chosen once (#rrggbb), or null before they pick one. */
export function savedColor(): string | null {
  const color = read(local, 'padmesh.color');
  return color !== null && /^#[0-9a-fA-F]{6}$/.test(color) ? color : null;
}
export const saveColor = (color: string): void => write(local, 'padmesh.color', color);

/** The DAW's built-in kit (an id of audio/kits/), or null before one was chosen. */
export const savedBuiltInKit = (): string | null => read(local, 'padmesh.builtInKit');
export const saveBuiltInKit = (id: string): void => write(local, 'padmesh.builtInKit', id);

/** The DAW's MIDI settings (client/midi/settings.ts reads them defensively): ports by name, so a replug finds them. */
export const savedMidi = (): string | null => read(local, 'padmesh.midi');
export const saveMidi = (json: string): void => write(local, 'padmesh.midi', json);
