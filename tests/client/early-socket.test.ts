/**
 * The socket a returning player's page opens before its app has loaded (client/net/early-socket.ts),
 * with a stand-in socket: these cases are about what is handed over, and when. The real thing (a real
 * server, the signaling client taking it over) is in signaling.test.ts and tests/e2e/phone-page.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  EARLY_INBOX_LIMIT,
  type EarlySocketLike,
  openEarlySocket,
  takeEarlySocket,
} from '../../client/net/early-socket.ts';

type Listener = (event: { data?: unknown }) => void;

class StandInSocket implements EarlySocketLike {
  readyState = 0; // CONNECTING
  readonly sent: string[] = [];
  closes = 0;
  private readonly listeners: Record<'open' | 'message', Listener[]> = { open: [], message: [] };
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closes += 1;
    this.readyState = 3; // CLOSED
  }
  addEventListener(type: 'open' | 'message', listener: Listener): void {
    this.listeners[type].push(listener);
  }
  open(): void {
    this.readyState = 1;
    for (const listener of this.listeners.open) listener({});
  }
  receive(data: unknown): void {
    for (const listener of this.listeners.message) listener({ data });
  }
}

const JOIN = '{"type":"join","v":1,"role":"controller","deviceId":"d1","room":"ABC346","name":"Remi"}';

/** Opens an early socket on a stand-in, returning the stand-in. */
function open(joinFor: () => string | null = () => JOIN): StandInSocket {
  let made: StandInSocket | undefined;
  openEarlySocket('ws://phone.test/ws', joinFor, (url) => {
    made = new StandInSocket(url);
    return made;
  });
  return made as StandInSocket;
}

afterEach(() => {
  takeEarlySocket(''); // nothing left over for the next case
});

describe('the early socket', () => {
  it('sends its join when it opens, keeps what the server says, and hands both over once', () => {
    let askedAfterMade = false;
    let socket: StandInSocket | undefined;
    openEarlySocket(
      'ws://phone.test/ws',
      () => {
        askedAfterMade = socket !== undefined; // the socket connects while the join is worked out
        return JOIN;
      },
      (url) => {
        socket = new StandInSocket(url);
        return socket;
      },
    );
    const early = socket as StandInSocket;
    expect(askedAfterMade).toBe(true);
    expect(early.sent).toEqual([]);
    early.open();
    expect(early.sent).toEqual([JOIN]);
    early.receive('{"type":"welcome"}');
    early.receive(new ArrayBuffer(2)); // the server sends text only: anything else is not kept
    early.receive('{"type":"member-updated"}');

    const taken = takeEarlySocket(JOIN);
    expect(taken?.socket).toBe(early);
    expect(taken?.inbox).toEqual(['{"type":"welcome"}', '{"type":"member-updated"}']);
    // From now on the taker's own handler hears the socket: nothing more is kept, and it is not handed over again.
    early.receive('{"type":"pong"}');
    expect(taken?.inbox).toHaveLength(2);
    expect(takeEarlySocket(JOIN)).toBeNull();
    expect(early.closes).toBe(0);
  });

  it('sends the join itself when taken over before it opened (the taker does not send one)', () => {
    const early = open();
    const taken = takeEarlySocket(JOIN);
    expect(taken?.inbox).toEqual([]);
    early.open();
    expect(early.sent).toEqual([JOIN]);
  });

  it('is closed, and not handed over, when the join the taker would send is another', () => {
    const early = open();
    early.open();
    expect(takeEarlySocket(JOIN.replace('Remi', 'Noor'))).toBeNull();
    expect(early.closes).toBe(1);
    expect(takeEarlySocket(JOIN)).toBeNull(); // gone, not waiting for another taker
  });

  it('is not handed over once it is closing or closed', () => {
    const early = open();
    early.open();
    early.readyState = 2; // CLOSING
    expect(takeEarlySocket(JOIN)).toBeNull();
  });

  it('is closed before it opens when there is no join after all (a remembered name that cannot be used)', () => {
    const early = open(() => null);
    expect(early.closes).toBe(1);
    early.open();
    expect(early.sent).toEqual([]);
    expect(takeEarlySocket(JOIN)).toBeNull();
  });

  it(`gives up after ${EARLY_INBOX_LIMIT} messages nobody came for`, () => {
    const early = open();
    early.open();
    for (let i = 0; i < EARLY_INBOX_LIMIT; i++) early.receive(`{"type":"member-updated","n":${i}}`);
    expect(early.closes).toBe(0);
    early.receive('{"type":"member-updated","n":"one too many"}');
    expect(early.closes).toBe(1);
    expect(takeEarlySocket(JOIN)).toBeNull();
  });

  it('hands nothing over where no page script opened one', () => {
    expect(takeEarlySocket(JOIN)).toBeNull();
  });
});
