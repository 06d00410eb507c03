import { describe, expect, it } from 'vitest';
import { createTokenSigner, newSecret } from '../../signal/tokens.ts';

describe('host and resume tokens', () => {
  const signer = createTokenSigner(newSecret());
  const claim = { room: 'ACDEF3', peerId: 'peer123456' };

  it('verify what they signed', () => {
    expect(signer.verifyHostToken(signer.hostToken(claim))).toEqual(claim);
    expect(signer.verifyResumeToken(signer.resumeToken(claim, 'device-1'), 'device-1')).toEqual(claim);
  });

  it('refuse tampering, another kind, another device and another secret', () => {
    const host = signer.hostToken(claim);
    expect(signer.verifyHostToken(host.replace('ACDEF3', 'ACDEF4'))).toBeNull();
    expect(signer.verifyHostToken(`${host.slice(0, -2)}AA`)).toBeNull();
    expect(signer.verifyResumeToken(host, '')).toBeNull();
    const resume = signer.resumeToken(claim, 'device-1');
    expect(signer.verifyHostToken(resume)).toBeNull();
    expect(signer.verifyResumeToken(resume, 'device-2')).toBeNull();
    expect(createTokenSigner(newSecret()).verifyHostToken(host)).toBeNull();
  });

  it('refuse garbage without throwing', () => {
    for (const garbage of ['', '....', 'h.a.b', 'h.a.b.c.d', 'h.a.b.!!!', 'x'.repeat(256)]) {
      expect(signer.verifyHostToken(garbage)).toBeNull();
      expect(signer.verifyResumeToken(garbage, 'device-1')).toBeNull();
    }
  });

  it('refuse a weak secret', () => {
    expect(() => createTokenSigner('short')).toThrow(RangeError);
  });
});
