/**
 * The phone's signaling socket, opened by an inline script in index.html while the app's code
 * still loads (a returning player on /join/<code> joins at once, so the socket's handshake need
 * not wait for the app to be parsed and run: docs/benchmarks.md, page open → first P2P hit).
 * The signaling client takes it over once (signaling.ts); a page that does not join at once
 * closes it (`dropEarlySocket`).
 */
import type { SocketLike } from './signaling.ts';

/** Where index.html's inline script leaves the socket. */
export const EARLY_SOCKET_GLOBAL = 'padmeshEarlySocket';

type EarlyWindow = { [EARLY_SOCKET_GLOBAL]?: WebSocket };

/** The early socket if it was opened to `url` and is not closing; taken once (null after). */
export function takeEarlySocket(url: string): SocketLike | null {
  const holder = globalThis as EarlyWindow;
  const socket = holder[EARLY_SOCKET_GLOBAL];
  if (socket === undefined) return null;
  delete holder[EARLY_SOCKET_GLOBAL];
  if (socket.url !== url || socket.readyState > WebSocket.OPEN) {
    socket.close();
    return null;
  }
  return socket as unknown as SocketLike;
}

/** The page did not join at once (no name yet, a PIN to ask): the early socket is not needed. */
export function dropEarlySocket(): void {
  const holder = globalThis as EarlyWindow;
  holder[EARLY_SOCKET_GLOBAL]?.close();
  delete holder[EARLY_SOCKET_GLOBAL];
}
