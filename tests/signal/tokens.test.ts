import { describe, expect, it } from 'vitest';
import { createTokenSigner, newSecret } from '../../signal/tokens.ts';

describe('host and resume tokens', () => {
  const signer = createTokenSigner(newSecret());
  const claim = { room: 'ACDEF3', peerId: 'peer123456' };
  const now = 1_800_000_000_000;
  const later = now + 60_000;

  it('verify what they signed, until they expire', () => {
    expect(signer.verifyHostToken(signer.hostToken(claim, later), now)).toEqual(claim);
    expect(signer.verifyResumeToken(signer.resumeToken(claim, 'device-1', later), 'device-1', now)).toEqual(claim);
    expect(signer.verifyHostToken(signer.hostToken(claim, later), later)).toBeNull();
    expect(signer.verifyResumeToken(signer.resumeToken(claim, 'device-1', later), 'device-1', later + 1)).toBeNull();
  });

  it('refuse tampering (the expiry too), another kind, another device and another secret', () => {
    const host = signer.hostToken(claim, later);
    expect(signer.verifyHostToken(host.replace('ACDEF3', 'ACDEF4'), now)).toBeNull();
    expect(signer.verifyHostToken(`${host.slice(0, -2)}AA`, now)).toBeNull();
    const [kind, room, peerId, expires, mac] = host.split('.') as [string, string, string, string, string];
    const extended = (Number.parseInt(expires, 36) + 3600).toString(36);
    expect(signer.verifyHostToken([kind, room, peerId, extended, mac].join('.'), now)).toBeNull();
    expect(signer.verifyResumeToken(host, '', now)).toBeNull();
    const resume = signer.resumeToken(claim, 'device-1', later);
    expect(signer.verifyHostToken(resume, now)).toBeNull();
    expect(signer.verifyResumeToken(resume, 'device-2', now)).toBeNull();
    expect(createTokenSigner(newSecret()).verifyHostToken(host, now)).toBeNull();
  });

  it('refuse anything after the MAC, even what base64 decoding would skip', () => {
    const host = signer.hostToken(claim, later);
    for (const junk of ['=', '!', ' ', 'A', '.', '%', '\u00e9']) {
      expect(signer.verifyHostToken(`${host}${junk}`, now), JSON.stringify(junk)).toBeNull();
    }
    const resume = signer.resumeToken(claim, 'device-1', later);
    expect(signer.verifyResumeToken(`${resume}==`, 'device-1', now)).toBeNull();
  });

  it('refuse garbage without throwing', () => {
    const garbage = ['', '....', 'h.a.b', 'h.a.b.c.d', 'h.a.b.c.d.e', 'h.a.b.!!!.x', 'x'.repeat(256)];
    garbage.push(`h.ACDEF3.peer.zzzz.${'\u00e9'.repeat(22)}`); // non-ASCII where the MAC goes
    for (const token of garbage) {
      expect(signer.verifyHostToken(token, now)).toBeNull();
      expect(signer.verifyResumeToken(token, 'device-1', now)).toBeNull();
    }
  });

  it('refuse a weak secret', () => {
    expect(() => createTokenSigner('short')).toThrow(RangeError);
  });
});
