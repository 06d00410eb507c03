/**
 * What a browser remembers between visits. Storage can be missing or throw (Safari private
 * mode, disabled cookies): then everything still works, it is just forgotten. What only the DAW
 * remembers is in daw-storage.ts, so phones do not load it.
 */
import { nanoid } from 'nanoid';

export function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

export function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // Not remembered; nothing else to do.
  }
}

export const local = () => localStorage;
const session = () => sessionStorage;

/** This browser's id if it has one yet (a page that has joined before has). */
export const savedDeviceId = (): string | null => read(local, 'padmesh.deviceId');

/** This browser's id, made once. nanoid uses crypto.getRandomValues, which plain-http pages have. */
export function deviceId(): string {
  let id = savedDeviceId();
  if (id === null) {
    id = nanoid();
    write(local, 'padmesh.deviceId', id);
  }
  return id;
}

export const savedName = (): string => read(local, 'padmesh.name') ?? '';
export const saveName = (name: string): void => write(local, 'padmesh.name', name.trim() || null);

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
