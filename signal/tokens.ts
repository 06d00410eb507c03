/**
 * Host and resume tokens, signed with an HMAC so the server can check them without keeping
 * them: a restarted server that was given the same secret (signal/main.ts keeps it in a
 * file) still recognises a DAW's hostToken and hands its room back, and gives controllers
 * their old peerIds, so the DAW's peer connections keyed by peerId survive the restart.
 *
 * Format: `<kind>.<room>.<peerId>.<expires>.<mac>`: `expires` is the end of its life in whole
 * seconds since the Unix epoch (base 36), `mac` 16 bytes of HMAC-SHA256 in base64url over the
 * rest (a resume token's also covers the deviceId, so it is worthless on another device).
 * Tokens expire (docs/security.md says for how long); a connected member's is renewed before
 * that (signal/server.ts, through its pings). Anything but exactly this shape is refused,
 * trailing characters after the MAC included.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaim {
  room: string;
  peerId: string;
}

export interface TokenSigner {
  /** A hostToken valid until `expiresAt` (ms since the epoch; rounded up to a whole second). */
  hostToken(claim: TokenClaim, expiresAt: number): string;
  /** The claim of a hostToken that verifies and has not expired at `now`, else null. */
  verifyHostToken(token: string, now: number): TokenClaim | null;
  resumeToken(claim: TokenClaim, deviceId: string, expiresAt: number): string;
  verifyResumeToken(token: string, deviceId: string, now: number): TokenClaim | null;
}

/** 16 bytes of HMAC-SHA256: 128 bits, far past guessing. */
const MAC_BYTES = 16;
/** base64url of MAC_BYTES, unpadded: 22 characters. */
const MAC = new RegExp(`^[\\w-]{${Math.ceil((MAC_BYTES * 4) / 3)}}$`);
/** What a room code and a peerId can be (protocol.ts); anything else in a token is a forgery attempt. */
const PART = /^[\w-]{1,32}$/;
const EXPIRES = /^[0-9a-z]{1,10}$/;

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function createTokenSigner(secret: string): TokenSigner {
  if (secret.length < 16) throw new RangeError('the token secret must be at least 16 characters');

  // A KeyObject, made once: HMAC with it costs about half what it does with the secret as a string.
  const key = createSecretKey(Buffer.from(secret));
  const mac = (text: string): string =>
    createHmac('sha256', key).update(text).digest().subarray(0, MAC_BYTES).toString('base64url');
  const sign = (kind: 'h' | 'r', { room, peerId }: TokenClaim, expiresAt: number, deviceId = ''): string => {
    const body = `${kind}.${room}.${peerId}.${Math.ceil(expiresAt / 1000).toString(36)}`;
    return `${body}.${mac(`${body}.${deviceId}`)}`;
  };
  const verify = (kind: 'h' | 'r', token: string, now: number, deviceId = ''): TokenClaim | null => {
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== kind) return null;
    const [, room = '', peerId = '', expires = '', given = ''] = parts;
    if (!PART.test(room) || !PART.test(peerId) || !EXPIRES.test(expires) || !MAC.test(given)) return null;
    // Compared as the exact text: base64url decoding would skip stray characters.
    const expected = Buffer.from(mac(`${kind}.${room}.${peerId}.${expires}.${deviceId}`));
    if (!timingSafeEqual(Buffer.from(given), expected)) return null;
    if (Number.parseInt(expires, 36) * 1000 <= now) return null;
    return { room, peerId };
  };

  return {
    hostToken: (claim, expiresAt) => sign('h', claim, expiresAt),
    verifyHostToken: (token, now) => verify('h', token, now),
    resumeToken: (claim, deviceId, expiresAt) => sign('r', claim, expiresAt, deviceId),
    verifyResumeToken: (token, deviceId, now) => verify('r', token, now, deviceId),
  };
}
