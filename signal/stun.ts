/**
 * A STUN server on the laptop (RFC 5389, Binding only). Phones and the laptop's browser hide
 * their LAN addresses behind mDNS `.local` ICE candidates; on WiFi that filters multicast
 * (client isolation) mDNS fails and no direct link forms. A Binding response tells each side
 * the address its packet came from — its real private IP — as a server-reflexive candidate,
 * with no internet involved. signal/server.ts advertises it in `welcome.iceServers`.
 *
 * Hand-written rather than a library. The maintained STUN package on npm, @msimerson/stun
 * 3.2 (a fork of nodertc's `stun` 2.1, which is unmaintained), decodes through binary-data
 * 0.6 (from the same unmaintained nodertc project; it builds its decoders with
 * generate-function at run time), pulls in 8 packages, is CommonJS without types, and
 * checks neither the magic cookie nor the length field of what it decodes, so every check
 * below would be ours anyway. What is left is a 20-byte header and one attribute: the
 * answer is built in `bindingResponse`, tested against RFC 5769's vectors.
 *
 * Nothing a remote sends can throw here: a datagram is answered only if it is exactly a
 * well-formed Binding request, and the work per datagram is bounded by its size, which is
 * capped (the header, then the attributes' lengths; their contents are not read). Answers
 * are rate-limited per source address and overall, so the laptop cannot be used to reflect
 * traffic at a spoofed address (a response is 32 or 44 bytes, for a request of 20 or more).
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import type { RateLimit } from './limits.ts';
import { TokenBucket } from './token-bucket.ts';

export const STUN_HEADER_BYTES = 20;
export const MAGIC_COOKIE = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const XOR_MAPPED_ADDRESS = 0x0020;
/**
 * Longer datagrams are ignored. A browser's Binding request to a STUN server is 20 bytes
 * (ICE checks with credentials ~100); 548 is RFC 5389's size for an unknown IPv4 path MTU.
 */
export const MAX_REQUEST_BYTES = 548;

export interface StunLimits {
  /** Answers to one source IP address (all its ports together). */
  perSource: RateLimit;
  /** Answers to everyone together: caps what the laptop sends however many sources are spoofed. */
  overall: RateLimit;
  /** Source addresses remembered at once; a new one beyond is not answered until quiet ones are forgotten. */
  maxSources: number;
}

/**
 * A DAW page makes one peer connection per controller, each asking once per network
 * interface (and again every few seconds to keep the binding fresh), so a burst of a few
 * hundred from the laptop itself is legitimate; a phone asks a handful of times.
 */
export const DEFAULT_STUN_LIMITS: Readonly<StunLimits> = Object.freeze({
  perSource: { perSecond: 50, burst: 200 },
  overall: { perSecond: 500, burst: 1000 },
  maxSources: 1024,
});

export interface StunServerOptions {
  /** The interface, as for the signal server: a wildcard (0.0.0.0 / ::) listens on every one. Default 0.0.0.0. */
  host?: string;
  /** UDP port; 0 picks a free one (tests). */
  port: number;
  limits?: Partial<StunLimits>;
}

export interface StunServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Binds the UDP socket(s) and answers Binding requests. Rejects with the bind error (e.g.
 * EADDRINUSE) when the port cannot be had. On the IPv4 wildcard an IPv6 socket is opened
 * on the same port too, if it can be (a browser may resolve `stun:localhost` to ::1); an
 * IPv6 host gets one dual-stack socket.
 */
export async function createStunServer(options: StunServerOptions): Promise<StunServer> {
  const host = options.host ?? '0.0.0.0';
  const limiter = new ReplyLimiter({ ...DEFAULT_STUN_LIMITS, ...options.limits });
  const answer = (socket: Socket) => (datagram: Buffer, from: RemoteInfo) => {
    // Port 0 cannot be sent to (Node throws at once, inside this listener, which would end the
    // process): such a datagram is forged, since no real socket has port 0.
    if (from.port === 0) return;
    const transactionId = bindingRequestId(datagram);
    if (transactionId === null || !limiter.allow(from.address, performance.now())) return;
    const reply = bindingResponse(transactionId, from.address, from.port);
    if (reply === null) return;
    try {
      // A failed send (the source is unreachable) is not our problem: the callback keeps it quiet.
      socket.send(reply, from.port, from.address, ignore);
    } catch {
      // Anything else send() throws at once is about this one datagram's source: ignore it too.
    }
  };

  const sockets: Socket[] = [];
  // An IPv6 host (:: included) gets a dual-stack socket, which IPv4 senders reach too.
  const main = await bindSocket(isIPv6(host) ? 'udp6' : 'udp4', host, options.port, false, answer);
  sockets.push(main);
  const { port } = main.address();
  if (host === '0.0.0.0' || host === '') {
    // No IPv6 on this machine, or the port taken there: IPv4 alone will do.
    const v6 = await bindSocket('udp6', '::', port, true, answer).catch(() => null);
    if (v6 !== null) sockets.push(v6);
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= Promise.all(sockets.map(closeSocket)).then(ignore);
      return closing;
    },
  };
}

function bindSocket(
  type: SocketType,
  host: string,
  port: number,
  ipv6Only: boolean,
  answer: (socket: Socket) => (datagram: Buffer, from: RemoteInfo) => void,
): Promise<Socket> {
  const socket = createSocket({ type, ipv6Only });
  return new Promise((resolve, reject) => {
    socket.once('error', (error) => {
      try {
        socket.close();
      } catch {
        // already closed by the failed bind
      }
      reject(error);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      socket.on('error', ignore); // nothing after binding may become an uncaught 'error'
      socket.on('message', answer(socket));
      resolve(socket);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function ignore(): void {}

/**
 * The transaction id of a well-formed Binding request, else null: too short or too long,
 * not a Binding request (method 1, class request, top bits 0), no magic cookie (RFC 3489
 * clients are not served), a length field that is not the rest of the datagram (in whole
 * 4-byte words), or attributes that do not tile it exactly. Their contents are not read.
 */
export function bindingRequestId(datagram: Buffer): Buffer | null {
  const size = datagram.length;
  if (size < STUN_HEADER_BYTES || size > MAX_REQUEST_BYTES) return null;
  if (datagram.readUInt16BE(0) !== BINDING_REQUEST) return null;
  const length = datagram.readUInt16BE(2);
  if (length !== size - STUN_HEADER_BYTES || length % 4 !== 0) return null;
  if (datagram.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  // Type, length, value padded to 4 bytes; at most 132 of them in MAX_REQUEST_BYTES.
  let at = STUN_HEADER_BYTES;
  while (at < size) {
    if (at + 4 > size) return null;
    at += 4 + Math.ceil(datagram.readUInt16BE(at + 2) / 4) * 4;
  }
  if (at !== size) return null;
  return datagram.subarray(8, STUN_HEADER_BYTES);
}

/**
 * A Binding success response: the request's transaction id, and XOR-MAPPED-ADDRESS for
 * `address`:`port` (an IPv4-mapped IPv6 address, as a dual-stack socket reports IPv4
 * senders, is answered as IPv4). Null if `address` is neither.
 */
export function bindingResponse(transactionId: Buffer, address: string, port: number): Buffer | null {
  const mapped = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const ip = isIPv4(mapped) ? ipv4Bytes(mapped) : ipv6Bytes(mapped);
  if (ip === null || transactionId.length !== 12) return null;
  const attributeLength = 4 + ip.length; // reserved, family, port, address
  const reply = Buffer.alloc(STUN_HEADER_BYTES + 4 + attributeLength);
  reply.writeUInt16BE(BINDING_SUCCESS, 0);
  reply.writeUInt16BE(4 + attributeLength, 2);
  reply.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(reply, 8);
  reply.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  reply.writeUInt16BE(attributeLength, 22);
  reply.writeUInt8(ip.length === 4 ? 0x01 : 0x02, 25);
  reply.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26);
  // The address is XORed with the magic cookie, then (IPv6) with the transaction id.
  for (let i = 0; i < ip.length; i++) reply[28 + i] = (ip[i] as number) ^ (reply[4 + i] as number);
  return reply;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** 16 bytes of an IPv6 address as Node reports it (`::` shorthand, a zone id, a dotted IPv4 tail). */
export function ipv6Bytes(address: string): Buffer | null {
  const text = address.split('%', 1)[0] as string;
  if (!isIPv6(text)) return null;
  const halves = text.split('::');
  const groups = (part: string | undefined): number[] => {
    const words: number[] = [];
    for (const group of part ? part.split(':') : []) {
      if (group.includes('.')) {
        const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
        words.push((a << 8) | b, (c << 8) | d);
      } else words.push(Number.parseInt(group, 16));
    }
    return words;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const words = halves.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail] : head;
  if (words.length !== 8) return null;
  const bytes = Buffer.alloc(16);
  for (const [i, word] of words.entries()) bytes.writeUInt16BE(word, i * 2);
  return bytes;
}

/**
 * Who gets an answer: a token bucket per source IP and one for everyone. The table of
 * sources is bounded; quiet sources (full buckets) are forgotten when it fills, at most once
 * a second, so a flood of spoofed sources costs a bounded amount of memory and work.
 */
export class ReplyLimiter {
  private readonly sources = new Map<string, TokenBucket>();
  private readonly overall: TokenBucket;
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: StunLimits,
    now = performance.now(),
  ) {
    this.overall = new TokenBucket(limits.overall, now);
  }

  get size(): number {
    return this.sources.size;
  }

  allow(source: string, now: number): boolean {
    let bucket = this.sources.get(source);
    if (bucket === undefined) {
      if (this.sources.size >= this.limits.maxSources) {
        if (now - this.sweptAt < 1000) return false;
        this.sweptAt = now;
        for (const [key, quiet] of this.sources) if (quiet.isFull(now)) this.sources.delete(key);
        if (this.sources.size >= this.limits.maxSources) return false;
      }
      bucket = new TokenBucket(this.limits.perSource, now);
      this.sources.set(source, bucket);
    }
    if (!this.overall.has(now) || !bucket.take(now)) return false;
    this.overall.take(now);
    return true;
  }
}
