/**
 * A returning player's signaling socket, opened by the page's first script (client/src/early-join.ts,
 * inlined into index.html by the build) while the app's code is still on its way: it sends the join as
 * soon as the socket opens and keeps what the server answers, so the welcome is waiting when the app
 * starts instead of being asked for only then. The signaling client takes the socket over
 * (client/net/signaling.ts) if its own join would have been the very same text; otherwise the socket
 * is closed and the client makes its own.
 *
 * The first script and the app are separate bundles, so the socket is handed over on `globalThis`.
 */

/** The least of the WebSocket API the first script needs (the browser's, or `ws` in Node tests). */
export interface EarlySocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'message', listener: (event: { data?: unknown }) => void): void;
}

/** What the server sends before the app runs: a welcome and a little presence. More, and the socket is given up. */
export const EARLY_INBOX_LIMIT = 32;

const HANDOFF = '__padmeshEarlySocket';

interface Handoff {
  socket: EarlySocketLike;
  join: string;
  /** The server's messages so far; null once the socket is taken over or given up. */
  inbox: string[] | null;
}
type WithHandoff = { [HANDOFF]?: Handoff };

const CLOSING = 2;

/**
 * Opens the socket, then asks `joinFor` for its join (null: no join after all, and the socket is
 * closed before it opens): the socket connects while the join is worked out. The join goes out the
 * moment the socket opens, whoever holds it by then.
 */
export function openEarlySocket(
  url: string,
  joinFor: () => string | null,
  make: (url: string) => EarlySocketLike = (target) => new WebSocket(target),
): void {
  const socket = make(url);
  const join = joinFor();
  if (join === null) return socket.close();
  const handoff: Handoff = { socket, join, inbox: [] };
  // Listeners, not the on* handlers: those become the signaling client's when it takes the socket.
  socket.addEventListener('open', () => socket.send(join));
  socket.addEventListener('message', (event) => {
    const inbox = handoff.inbox;
    if (inbox === null || typeof event.data !== 'string') return; // taken: the client's handler has it
    if (inbox.length < EARLY_INBOX_LIMIT) inbox.push(event.data);
    else {
      // Something is wrong (the app never came for it): the app's client will make a socket of its own.
      handoff.inbox = null;
      socket.close();
    }
  });
  (globalThis as WithHandoff)[HANDOFF] = handoff;
}

/**
 * The early socket and what the server has sent on it so far, if its join is `join` and it is not
 * closing; it is then no longer early (a second call gets null). One that does not fit is closed.
 */
export function takeEarlySocket(join: string): { socket: EarlySocketLike; inbox: string[] } | null {
  const handoff = (globalThis as WithHandoff)[HANDOFF];
  if (handoff === undefined) return null;
  delete (globalThis as WithHandoff)[HANDOFF];
  const { socket, inbox } = handoff;
  handoff.inbox = null;
  if (inbox !== null && handoff.join === join && socket.readyState < CLOSING) return { socket, inbox };
  socket.close();
  return null;
}
