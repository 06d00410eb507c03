/**
 * A returning player's signaling socket, opened as the app's code starts to run (client/src/early-join.ts).
 * The app's first render waits for it to open (at most EARLY_SOCKET_WAIT_MS), so the join goes out
 * before the render, not after it: the server's welcome is then on its way while the page renders.
 * The signaling client takes this socket for its first connection instead of making one (the page
 * that opened it always joins in its first render: client/state/returning-player.ts decides both).
 */

/** How long the first render waits for the early socket to open (a slow or absent server must not blank the page). */
export const EARLY_SOCKET_WAIT_MS = 100;

let early: WebSocket | null = null;

/** Opens the socket (its URL is this page's own host: the constructor has nothing to refuse). */
export function openEarlySocket(url: string): void {
  early = new WebSocket(url);
}

/** Calls `then` once: when the early socket opens, after EARLY_SOCKET_WAIT_MS, or at once if there is none. */
export function whenEarlySocketSettles(then: () => void): void {
  const socket = early;
  if (!socket) return then();
  const timer = setTimeout(() => {
    socket.onopen = null;
    then();
  }, EARLY_SOCKET_WAIT_MS);
  socket.onopen = () => {
    clearTimeout(timer);
    then();
  };
}

/**
 * The early socket, if it is still connecting, or open with its `open` event being this very task
 * (the first render runs in it); then it is no longer early (a second call gets null). A closed one
 * is no use: the caller makes a socket of its own.
 */
export function takeEarlySocket(): WebSocket | null {
  const socket = early;
  early = null;
  return socket && socket.readyState < 2 ? socket : null; // CONNECTING or OPEN
}
