/**
 * The HTTPS certificate (`npm start -- --https`): made once and kept in the state folder, naming
 * the laptop's LAN addresses and names, made again (with one log line saying why) when the
 * addresses change, when it nears its end, or when the files on disk are not a usable pair.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CERT_FILE,
  type CertificateNames,
  certificateNames,
  KEY_FILE,
  type KeptCertificate,
  keepCertificate,
  makeCertificate,
  RENEW_BEFORE_DAYS,
  watchCertificate,
} from '../../signal/certificate.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'padmesh-cert-'));
  dirs.push(dir);
  return join(dir, 'state');
}

const HOME: CertificateNames = certificateNames(['192.168.1.23', '10.0.0.5'], 'drumlaptop');
const NOW = new Date('2026-12-07T17:00:00Z');
const DAY_MS = 86_400_000;

/** keepCertificate, with the log lines it wrote. */
async function keep(dir: string, names: CertificateNames, now = NOW) {
  const log: string[] = [];
  const kept = await keepCertificate(dir, names, { now, onLog: (line) => log.push(line) });
  return { kept, log };
}

describe('certificateNames', () => {
  it('names loopback, the LAN addresses, localhost, the hostname and its mDNS name', () => {
    expect(HOME).toEqual({
      ips: ['127.0.0.1', '192.168.1.23', '10.0.0.5'],
      dns: ['localhost', 'drumlaptop', 'drumlaptop.local'],
    });
    // A hostname that is already a .local name is not doubled; one that is no DNS name is left out.
    expect(certificateNames([], 'Studio.local.').dns).toEqual(['localhost', 'studio.local']);
    expect(certificateNames([], 'my_laptop').dns).toEqual(['localhost']);
    expect(certificateNames(['not an address', '127.0.0.1'], '').ips).toEqual(['127.0.0.1']);
  });
});

describe('keepCertificate', () => {
  it('makes one for every name, as iOS wants it, privately, once; the next start keeps it', async () => {
    const dir = stateDir();
    const first = await keep(dir, HOME);
    expect(first.kept.madeBecause).toBe('none was kept');
    expect(first.log).toEqual([expect.stringContaining(`making a new HTTPS certificate in ${dir} (none was kept)`)]);
    const x509 = new X509Certificate(first.kept.cert);
    for (const ip of HOME.ips) expect(x509.checkIP(ip), ip).toBe(ip);
    for (const name of HOME.dns) expect(x509.checkHost(name, { subject: 'never' }), name).toBe(name);
    expect(x509.checkIP('192.168.1.99')).toBeUndefined();
    expect(x509.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // extKeyUsage serverAuth
    expect(x509.ca).toBe(false);
    const validFrom = new Date(x509.validFrom).getTime();
    const validTo = new Date(x509.validTo).getTime();
    expect(validFrom).toBeLessThan(NOW.getTime()); // a phone whose clock is a little behind still takes it
    expect(validTo - validFrom).toBeLessThanOrEqual(825 * DAY_MS); // Apple's limit
    expect(first.kept.fingerprint).toBe(x509.fingerprint256);
    for (const file of [KEY_FILE, CERT_FILE]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const second = await keep(dir, HOME, new Date(NOW.getTime() + 100 * DAY_MS));
    expect(second.kept.madeBecause).toBeNull();
    expect(second.log).toEqual([]);
    expect(second.kept.cert).toBe(first.kept.cert);
    expect(second.kept.key).toBe(first.kept.key);
  });

  it('keeps it when the laptop has fewer addresses than it names, remakes it when one is new', async () => {
    const dir = stateDir();
    const { kept } = await keep(dir, HOME);
    const fewer = certificateNames(['192.168.1.23'], 'drumlaptop');
    expect((await keep(dir, fewer)).kept.cert).toBe(kept.cert);

    const venue = certificateNames(['172.20.10.2'], 'drumlaptop');
    const moved = await keep(dir, venue);
    expect(moved.kept.madeBecause).toBe('the kept one cannot be used: it does not name 172.20.10.2');
    expect(moved.log).toEqual([expect.stringContaining('it does not name 172.20.10.2')]);
    expect(new X509Certificate(moved.kept.cert).checkIP('172.20.10.2')).toBe('172.20.10.2');
    expect(readFileSync(join(dir, CERT_FILE), 'utf8')).toBe(moved.kept.cert);
    // A new hostname too.
    const renamed = await keep(dir, certificateNames(['172.20.10.2'], 'padbox'));
    expect(renamed.kept.madeBecause).toContain('it does not name padbox');
  });

  it('remakes it when it nears its end', async () => {
    const dir = stateDir();
    const { kept } = await keep(dir, HOME);
    const validTo = new Date(new X509Certificate(kept.cert).validTo).getTime();
    const late = new Date(validTo - (RENEW_BEFORE_DAYS - 1) * DAY_MS);
    const renewed = await keep(dir, HOME, late);
    expect(renewed.kept.madeBecause).toMatch(/cannot be used: it expires on \d{4}-\d\d-\d\d/);
    expect(new Date(new X509Certificate(renewed.kept.cert).validTo).getTime()).toBeGreaterThan(validTo);
  });

  it('remakes it, saying why, when the files on disk are corrupt, missing or not a pair', async () => {
    const dir = stateDir();
    await keep(dir, HOME);
    const cases: [string, () => void, string][] = [
      [
        'a corrupt certificate',
        () => writeFileSync(join(dir, CERT_FILE), 'garbage\n'),
        'are not a key and certificate',
      ],
      [
        'a truncated key',
        () => writeFileSync(join(dir, KEY_FILE), readFileSync(join(dir, KEY_FILE), 'utf8').slice(0, 60)),
        'are not a key and certificate',
      ],
      ['an empty key', () => writeFileSync(join(dir, KEY_FILE), ''), 'are not a key and certificate'],
      ['no key', () => rmSync(join(dir, KEY_FILE)), 'none was kept'],
    ];
    for (const [what, damage, why] of cases) {
      damage();
      const { kept, log } = await keep(dir, HOME);
      expect(kept.madeBecause, what).toContain(why);
      expect(log, what).toEqual([expect.stringContaining(why)]);
      // The new pair is whole and kept.
      expect((await keep(dir, HOME)).kept.cert, what).toBe(kept.cert);
    }
    // A key of another certificate.
    const other = await makeCertificate(HOME, NOW);
    writeFileSync(join(dir, KEY_FILE), other.key);
    expect((await keep(dir, HOME)).kept.madeBecause).toContain('the key does not belong to the certificate');
  });

  it('while the server runs, makes one for a new address once, and hands it over', async () => {
    const dir = stateDir();
    const { kept } = await keep(dir, HOME);
    let names = HOME;
    let checks = 0;
    const log: string[] = [];
    const handed: KeptCertificate[] = [];
    const wanted = () => {
      checks += 1;
      return names;
    };
    const stop = watchCertificate(dir, wanted, kept, (next) => handed.push(next), {
      now: NOW,
      everyMs: 10,
      onLog: (line) => log.push(line),
    });
    try {
      // The same addresses: checked, and nothing made.
      await expect.poll(() => checks, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expect(handed).toEqual([]);
      // The laptop joins the venue's WiFi.
      names = certificateNames(['192.168.1.23', '172.20.10.2'], 'drumlaptop');
      await expect.poll(() => handed.length, { timeout: 10_000 }).toBe(1);
      expect(new X509Certificate(handed[0]?.cert ?? '').checkIP('172.20.10.2')).toBe('172.20.10.2');
      expect(log).toEqual([expect.stringContaining('it does not name 172.20.10.2')]);
      expect(readFileSync(join(dir, CERT_FILE), 'utf8')).toBe(handed[0]?.cert);
      // Made once: later checks find it fits.
      const after = checks;
      await expect.poll(() => checks, { timeout: 10_000 }).toBeGreaterThanOrEqual(after + 3);
      expect(handed).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('refuses a state folder it cannot keep a key in safely (a symbolic link)', async () => {
    const dir = stateDir();
    const real = mkdtempSync(join(tmpdir(), 'padmesh-cert-real-'));
    dirs.push(real);
    symlinkSync(real, dir);
    await expect(keep(dir, HOME)).rejects.toThrow('is a symbolic link');
  });
});
