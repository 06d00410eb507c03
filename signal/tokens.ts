/**
 * Host and resume tokens, signed with an HMAC so the server can check them without keeping
 * them: a restarted server that was given the same secret (signal/main.ts keeps it in a
 * file) still recognises a DAW's hostToken and hands its room back, and gives controllers
 * their old peerIds, so the DAW's peer connections keyed by peerId survive the restart.
 *
 * Format: `<kind>.<room>.<peerId>.<mac>`; a resume token's MAC also covers the deviceId, so
 * it is worthless on another device.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaim {
  room: string;
  peerId: string;
}

export interface TokenSigner {
  hostToken(claim: TokenClaim): string;
  verifyHostToken(token: string): TokenClaim | null;
  resumeToken(claim: TokenClaim, deviceId: string): string;
  verifyResumeToken(token: string, deviceId: string): TokenClaim | null;
}

/** 16 bytes of HMAC-SHA256: 128 bits, far past guessing. */
const MAC_BYTES = 16;

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function createTokenSigner(secret: string): TokenSigner {
  if (secret.length < 16) throw new RangeError('the token secret must be at least 16 characters');

  const mac = (text: string): Buffer => createHmac('sha256', secret).update(text).digest().subarray(0, MAC_BYTES);
  const sign = (kind: 'h' | 'r', { room, peerId }: TokenClaim, deviceId = ''): string => {
    const body = `${kind}.${room}.${peerId}`;
    return `${body}.${mac(`${body}.${deviceId}`).toString('base64url')}`;
  };
  const verify = (kind: 'h' | 'r', token: string, deviceId = ''): TokenClaim | null => {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== kind) return null;
    const [, room = '', peerId = '', given = ''] = parts;
    const expected = mac(`${kind}.${room}.${peerId}.${deviceId}`);
    const actual = Buffer.from(given, 'base64url');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
    return { room, peerId };
  };

  return {
    hostToken: (claim) => sign('h', claim),
    verifyHostToken: (token) => verify('h', token),
    resumeToken: (claim, deviceId) => sign('r', claim, deviceId),
    verifyResumeToken: (token, deviceId) => verify('r', token, deviceId),
  };
}
