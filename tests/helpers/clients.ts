/**
 * Real `ws` clients for tests, with bounded waits: every wait has a timeout, so a missing
 * message fails the test instead of hanging it.
 */
import { type ClientOptions, WebSocket } from 'ws';
import {
  type ClientMessage,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ServerMessage,
  type ServerMessages,
  type WelcomeMessage,
} from '../../signal/protocol.ts';
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../../signal/server.ts';

/**
 * How long a test waits for a message or a close: far longer than it takes (milliseconds), as a
 * loaded 2-core machine can stall this process for seconds. Only a failing test waits it out.
 */
export const WAIT_MS = 10_000;

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  readonly received: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];
  private pings = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) throw new Error(`unparseable server message ${data.toString()}: ${parsed.error.message}`);
      this.received.push(parsed.message);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('error', () => {});
  }

  static async open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('open timed out')), WAIT_MS);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return client;
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Takes the first not-yet-taken message of `type` (that `matches`), waiting for it if need be. */
  async next<T extends ServerMessage['type']>(
    type: T,
    matches: (message: ServerMessages[T]) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<ServerMessages[T]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(
        (message) => message.type === type && matches(message as ServerMessages[T]),
      );
      if (index >= 0) return this.received.splice(index, 1)[0] as ServerMessages[T];
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no "${type}" within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async error(): Promise<ServerMessages['error']> {
    return this.next('error');
  }

  /**
   * A ping/pong round trip. The server handles messages in order and sends what they cause
   * at once, so after this returns, everything caused by earlier actions has arrived.
   */
  async sync(): Promise<void> {
    const t = ++this.pings;
    this.send({ type: 'ping', t });
    for (;;) {
      const pong = await this.next('pong');
      if (pong.t === t) return;
    }
  }

  /** Messages of `type` received and not yet taken. */
  pending(type: ServerMessage['type']): ServerMessage[] {
    return this.received.filter((message) => message.type === type);
  }

  async closedWithin(timeoutMs = WAIT_MS): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

let deviceCounter = 0;
export const newDeviceId = (): string =>
  `device-${process.pid}-${++deviceCounter}-${Math.random().toString(36).slice(2, 8)}`;

export interface JoinOptions {
  role?: 'daw' | 'controller';
  room?: string;
  deviceId?: string;
  name?: string;
  color?: string;
  hostToken?: string;
  resumeToken?: string;
  pin?: string;
}

export function joinMessage(options: JoinOptions = {}): ClientMessage {
  const message: Record<string, unknown> = {
    type: 'join',
    v: PROTOCOL_VERSION,
    role: options.role ?? 'controller',
    deviceId: options.deviceId ?? newDeviceId(),
  };
  for (const key of ['room', 'name', 'color', 'hostToken', 'resumeToken', 'pin'] as const) {
    if (options[key] !== undefined) message[key] = options[key];
  }
  return message as ClientMessage;
}

/**
 * Opens a client to `url` (a server not run by a Harness: another process), kept in `opened` for
 * the test to close, and joins: the welcome, or an error naming what came instead.
 */
export async function joinAt(url: string, options: JoinOptions, opened: TestClient[]) {
  const client = await TestClient.open(url);
  opened.push(client);
  client.send(joinMessage(options));
  const welcome = await client.next('welcome').catch((error) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify(client.received)} for ${JSON.stringify(options)}`);
  });
  return { client, welcome };
}

/** A running server on an ephemeral loopback port, and clients that close with it. */
export class Harness {
  private clients: TestClient[] = [];

  private constructor(
    readonly server: SignalServer,
    readonly url: string,
  ) {}

  static async start(options: SignalServerOptions = {}): Promise<Harness> {
    const server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: null, ...options });
    return new Harness(server, `ws://127.0.0.1:${server.port}/ws`);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  async open(options: ClientOptions = {}): Promise<TestClient> {
    const client = await TestClient.open(this.url, options);
    this.clients.push(client);
    return client;
  }

  /** Opens a socket and joins; resolves with the welcome. */
  async join(
    options: JoinOptions = {},
    socket: ClientOptions = {},
  ): Promise<{ client: TestClient; welcome: WelcomeMessage }> {
    const client = await this.open(socket);
    client.send(joinMessage(options));
    const welcome = await client.next('welcome');
    return { client, welcome };
  }

  /** A DAW with a fresh room, and `count` controllers in it. */
  async room(count = 0): Promise<{
    daw: TestClient;
    welcome: WelcomeMessage;
    controllers: { client: TestClient; welcome: WelcomeMessage }[];
  }> {
    const { client: daw, welcome } = await this.join({ role: 'daw' });
    const controllers = [];
    for (let i = 0; i < count; i++) {
      const joined = await this.join({ room: welcome.room });
      await daw.next('member-joined');
      controllers.push(joined);
    }
    return { daw, welcome, controllers };
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.server.close();
  }
}
