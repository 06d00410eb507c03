/** The app's few routes, read from the path (the server falls back to index.html for them). */
import { normalizeRoomCode } from '../../signal/protocol.ts';

export type Route = { page: 'start' } | { page: 'daw' } | { page: 'join'; room: string | null; typed: string | null };

export function routeOf(pathname: string): Route {
  if (pathname === '/daw' || pathname === '/daw/') return { page: 'daw' };
  const join = /^\/join(?:\/([^/]*))?\/?$/.exec(pathname);
  if (join) {
    const typed = join[1] ? decodedOrNull(join[1]) : null;
    return { page: 'join', room: typed === null ? null : normalizeRoomCode(typed), typed };
  }
  return { page: 'start' };
}

/** A path segment decoded; a malformed escape (`%`, `%zz`, a lone surrogate) is no room, not a crash. */
function decodedOrNull(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export const joinPath = (room: string): string => `/join/${room}`;
