/**
 * The laptop's STUN server (signal/stun.ts): the Binding response against RFC 5769's test
 * vectors, then a real UDP client on 127.0.0.1: answers, malformed datagrams, the rate limit,
 * a taken port. Every wait is bounded.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BINDING_REQUEST,
  BINDING_SUCCESS,
  bindingRequestId,
  bindingResponse,
  createStunServer,
  ipv6Bytes,
  MAGIC_COOKIE,
  MAX_REQUEST_BYTES,
  ReplyLimiter,
  type StunServer,
  XOR_MAPPED_ADDRESS,
} from '../../signal/stun.ts';

const WAIT_MS = 2_000;
/** How long "no answer" is waited for, after an answer to a later request has come. */
const QUIET_MS = 100;

/** A STUN header: type, length field, cookie, transaction id; then `body`. */
function message(type: number, transactionId: Buffer, body = Buffer.alloc(0), length = body.length): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(length, 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  return Buffer.concat([header, body]);
}

const bindingRequest = (transactionId: Buffer): Buffer => message(BINDING_REQUEST, transactionId);

/** Decodes a Binding success response the long way, independently of signal/stun.ts. */
function decodeResponse(reply: Buffer): { type: number; transactionId: string; address: string; port: number } {
  expect(reply.length).toBeGreaterThanOrEqual(20);
  expect(reply.readUInt16BE(2)).toBe(reply.length - 20);
  expect(reply.readUInt32BE(4)).toBe(MAGIC_COOKIE);
  const attribute = reply.readUInt16BE(20);
  expect(attribute).toBe(XOR_MAPPED_ADDRESS);
  const family = reply.readUInt8(25);
  expect(family).toBe(0x01);
  const port = reply.readUInt16BE(26) ^ 0x2112;
  const cookie = [0x21, 0x12, 0xa4, 0x42];
  const address = [0, 1, 2, 3].map((i) => (reply[28 + i] as number) ^ (cookie[i] as number)).join('.');
  return { type: reply.readUInt16BE(0), transactionId: reply.subarray(8, 20).toString('hex'), address, port };
}

/** A UDP client on 127.0.0.1 that keeps what it receives. */
class Client {
  readonly received: Buffer[] = [];
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('message', (data) => {
      this.received.push(data);
      this.wake?.();
    });
  }

  static async open(): Promise<Client> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const client = new Client(socket);
    clients.push(client);
    return client;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(datagram: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(datagram, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Waits until `count` datagrams have come (or fails after WAIT_MS). */
  async until(count: number, timeoutMs = WAIT_MS): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.received.length} of ${count} datagrams within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received;
  }

  /** Everything received within `ms` from now. */
  async after(ms: number): Promise<Buffer[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.received;
  }
}

const clients: Client[] = [];
const servers: StunServer[] = [];
const held: Socket[] = [];

async function start(options: Partial<Parameters<typeof createStunServer>[0]> = {}): Promise<StunServer> {
  const server = await createStunServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  return server;
}

/** A UDP port on 127.0.0.1 that another socket holds. */
async function takenPort(): Promise<number> {
  const socket = createSocket('udp4');
  held.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.close();
  for (const socket of held.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('the Binding response', () => {
  // RFC 5769 §2.2 and §2.3: the sample responses' transaction id and XOR-MAPPED-ADDRESS.
  const transactionId = Buffer.from('b7e7a701bc34d686fa87dfae', 'hex');

  it('encodes an IPv4 XOR-MAPPED-ADDRESS as RFC 5769 does', () => {
    const reply = bindingResponse(transactionId, '192.0.2.1', 32853);
    expect(reply?.toString('hex')).toBe(`0101000c2112a442${transactionId.toString('hex')}002000080001a147e112a643`);
  });

  it('encodes an IPv6 XOR-MAPPED-ADDRESS as RFC 5769 does', () => {
    const reply = bindingResponse(transactionId, '2001:db8:1234:5678:11:2233:4455:6677', 32853);
    expect(reply?.subarray(0, 4).toString('hex')).toBe('01010018');
    expect(reply?.subarray(20).toString('hex')).toBe('002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9');
  });

  it('answers an IPv4-mapped IPv6 sender (a dual-stack socket) with its IPv4 address', () => {
    expect(bindingResponse(transactionId, '::ffff:192.0.2.1', 32853)).toEqual(
      bindingResponse(transactionId, '192.0.2.1', 32853),
    );
  });

  it('reads IPv6 addresses in the forms Node reports', () => {
    expect(ipv6Bytes('::')?.toString('hex')).toBe('0'.repeat(32));
    expect(ipv6Bytes('::1')?.toString('hex')).toBe(`${'0'.repeat(31)}1`);
    expect(ipv6Bytes('fe80::1%eth0')?.toString('hex')).toBe(`fe80${'0'.repeat(27)}1`);
    expect(ipv6Bytes('1:2:3:4:5:6:1.2.3.4')?.toString('hex')).toBe('00010002000300040005000601020304');
    expect(ipv6Bytes('1::')?.toString('hex')).toBe(`0001${'0'.repeat(28)}`);
    expect(ipv6Bytes('1.2.3.4')).toBeNull();
    expect(ipv6Bytes('nonsense')).toBeNull();
  });
});

/** Every datagram that must not be answered, by why. */
const id = Buffer.from('0123456789abcdef01234567', 'hex');
const MALFORMED: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['shorter than a header', bindingRequest(id).subarray(0, 19)],
  ['too long', message(BINDING_REQUEST, id, Buffer.alloc(MAX_REQUEST_BYTES - 20 + 4))],
  ['without the magic cookie (RFC 3489)', Buffer.from(bindingRequest(id)).fill(0, 4, 8)],
  ['a Binding indication', message(0x0011, id)],
  ['a Binding success response', message(BINDING_SUCCESS, id)],
  ['a Binding error response', message(0x0111, id)],
  ['another method (Allocate)', message(0x0003, id)],
  ['with the top two bits set', message(0xc001, id)],
  ['a length field longer than the datagram', message(BINDING_REQUEST, id, Buffer.alloc(0), 8)],
  ['a length field shorter than the datagram', message(BINDING_REQUEST, id, Buffer.alloc(8), 4)],
  ['a length that is not whole words', message(BINDING_REQUEST, id, Buffer.alloc(2))],
  ['an attribute that runs past the end', message(BINDING_REQUEST, id, Buffer.from('8022004001020304', 'hex'))],
  [
    'a second attribute that runs past the end',
    message(BINDING_REQUEST, id, Buffer.from('802200047465737400060010', 'hex')),
  ],
  ['not STUN at all', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
];

describe('what is a Binding request', () => {
  it('takes a well-formed one, with or without attributes, and gives its transaction id', () => {
    expect(bindingRequestId(bindingRequest(id))?.toString('hex')).toBe(id.toString('hex'));
    const withSoftware = message(BINDING_REQUEST, id, Buffer.from('8022000474657374', 'hex'));
    expect(bindingRequestId(withSoftware)?.toString('hex')).toBe(id.toString('hex'));
  });

  it('never throws, whatever the bytes', () => {
    for (let i = 0; i < 5_000; i++) {
      const datagram = randomBytes(Math.floor(Math.random() * 600));
      // Most of them a Binding request header with a random length field and random attributes.
      if (datagram.length >= 20 && i % 4 !== 0) {
        datagram.writeUInt16BE(BINDING_REQUEST, 0);
        datagram.writeUInt32BE(MAGIC_COOKIE, 4);
        if (i % 2 === 0) datagram.writeUInt16BE(datagram.length - 20, 2);
      }
      const found = bindingRequestId(datagram);
      if (found !== null) expect(found).toHaveLength(12);
    }
  });

  it.each(MALFORMED)('refuses one %s', (_, datagram) => {
    expect(bindingRequestId(datagram)).toBeNull();
  });
});

describe('the STUN server on UDP', () => {
  it('answers a Binding request with its transaction id and the client’s own address and port', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    const client = await Client.open();
    const transactionId = randomBytes(12);
    await client.send(bindingRequest(transactionId), server.port);
    const [reply] = await client.until(1);
    expect(decodeResponse(reply as Buffer)).toEqual({
      type: BINDING_SUCCESS,
      transactionId: transactionId.toString('hex'),
      address: '127.0.0.1',
      port: client.port,
    });
  });

  it('answers each request on its own, and requests with attributes too', async () => {
    const server = await start();
    const client = await Client.open();
    const ids = [randomBytes(12), randomBytes(12)];
    await client.send(bindingRequest(ids[0] as Buffer), server.port);
    await client.send(message(BINDING_REQUEST, ids[1] as Buffer, Buffer.from('8022000474657374', 'hex')), server.port);
    const replies = await client.until(2);
    expect(replies.map((reply) => decodeResponse(reply).transactionId).sort()).toEqual(
      ids.map((i) => i.toString('hex')).sort(),
    );
  });

  it.each(MALFORMED)(
    'ignores a malformed datagram (%s), and still answers a good request after it',
    async (_, datagram) => {
      const server = await start();
      const client = await Client.open();
      await client.send(datagram, server.port);
      const good = randomBytes(12);
      await client.send(bindingRequest(good), server.port);
      await client.until(1);
      const received = await client.after(QUIET_MS);
      expect(received.map((reply) => decodeResponse(reply).transactionId)).toEqual([good.toString('hex')]);
    },
  );

  it('answers a source no more often than its rate limit', async () => {
    const server = await start({ limits: { perSource: { perSecond: 1, burst: 3 } } });
    const client = await Client.open();
    const ids = Array.from({ length: 6 }, () => randomBytes(12));
    for (const transactionId of ids) await client.send(bindingRequest(transactionId), server.port);
    await client.until(3);
    const received = await client.after(QUIET_MS);
    expect(received.map((reply) => decodeResponse(reply).transactionId)).toEqual(
      ids.slice(0, 3).map((i) => i.toString('hex')),
    );
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const port = await takenPort();
    await expect(createStunServer({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('frees its port on close (twice is fine)', async () => {
    const server = await createStunServer({ host: '127.0.0.1', port: 0 });
    await server.close();
    await server.close();
    const again = await start({ port: server.port });
    expect(again.port).toBe(server.port);
  });
});

describe('the reply limiter', () => {
  const limits = {
    perSource: { perSecond: 10, burst: 2 },
    overall: { perSecond: 100, burst: 5 },
    maxSources: 3,
  };

  it('limits each source on its own, and refills with time', () => {
    const limiter = new ReplyLimiter(limits, 0);
    expect([1, 2, 3].map(() => limiter.allow('10.0.0.1', 0))).toEqual([true, true, false]);
    expect(limiter.allow('10.0.0.2', 0)).toBe(true);
    expect(limiter.allow('10.0.0.1', 100)).toBe(true); // 10/s: one token after 100 ms
    expect(limiter.allow('10.0.0.1', 100)).toBe(false);
  });

  it('caps the answers to everyone together', () => {
    const limiter = new ReplyLimiter({ ...limits, maxSources: 100 }, 0);
    const answered = Array.from({ length: 10 }, (_, i) => limiter.allow(`10.0.0.${i}`, 0)).filter(Boolean);
    expect(answered).toHaveLength(5);
    expect(limiter.allow('10.0.1.1', 10)).toBe(true); // 100/s: one token after 10 ms
  });

  it('remembers a bounded number of sources, forgetting quiet ones at most once a second', () => {
    const limiter = new ReplyLimiter({ ...limits, overall: { perSecond: 1000, burst: 1000 } }, 0);
    for (const source of ['a', 'b', 'c']) expect(limiter.allow(source, 0)).toBe(true);
    expect(limiter.allow('d', 0)).toBe(false); // the table is full and nobody is quiet yet
    expect(limiter.size).toBe(3);
    expect(limiter.allow('d', 500)).toBe(false); // swept (nothing freed) less than a second ago
    expect(limiter.allow('d', 1000)).toBe(true); // a, b and c have refilled: forgotten
    expect(limiter.size).toBe(1);
  });
});
