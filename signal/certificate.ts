/**
 * The self-signed TLS certificate of `npm start -- --https`. Phones only get a secure context
 * (and with it the Wake Lock API) over https, and a laptop on a LAN without internet has no
 * name a public CA would sign, so the server makes its own certificate (with the `selfsigned`
 * package), keeps it in its state folder, and uses it again on the next start: a phone that
 * accepted it once is not asked again. It is made again only when it no longer fits: a LAN
 * address (or the hostname) it does not name, less than RENEW_BEFORE_DAYS left, or files that
 * cannot be read as a key and its certificate (each case said in one log line); at start, and
 * while the server runs (watchCertificate: the laptop joins another network).
 *
 * What the certificate is built for (Apple's rules for TLS server certificates, which iOS
 * applies before it even offers to go on): names only in subjectAltName, extKeyUsage
 * serverAuth, SHA-256, a P-256 key, valid from a day back (a phone's clock may be behind) for
 * VALID_DAYS.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import { type Owner, readPrivateFile, writePrivateFile } from './state-dir.ts';

export const KEY_FILE = 'tls-key.pem';
export const CERT_FILE = 'tls-cert.pem';
/** How long a new certificate is valid. Apple refuses TLS certificates valid for more than 825 days. */
export const VALID_DAYS = 365;
/** A kept certificate with fewer days left is made again. */
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
const NONE_KEPT = 'none was kept';

/** What a certificate must name: IP addresses and DNS names. */
export interface CertificateNames {
  ips: string[];
  dns: string[];
}

export interface KeptCertificate {
  key: string;
  cert: string;
  /** SHA-256 fingerprint, as a person compares it with what the phone shows. */
  fingerprint: string;
  validTo: Date;
  /** Why it was made now; null when the kept one was used. */
  madeBecause: string | null;
}

/**
 * The names phones may reach the laptop by: its LAN addresses, loopback, localhost, and its
 * hostname and mDNS name (`<hostname>.local`) when the hostname is a valid DNS name.
 */
export function certificateNames(lanAddresses: readonly string[], hostname: string): CertificateNames {
  const dns = ['localhost'];
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (/^(?=.{1,240}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) {
    dns.push(name);
    if (!name.endsWith('.local')) dns.push(`${name}.local`);
  }
  const ips = ['127.0.0.1', ...lanAddresses.filter((address) => isIP(address) !== 0 && address !== '127.0.0.1')];
  return { ips: [...new Set(ips)], dns: [...new Set(dns)] };
}

/**
 * Why the kept key and certificate cannot serve `wanted` at `now`, or null if they can: not a
 * key and certificate that belong together, expiring, or a name missing.
 */
export function certificateProblem(key: string, cert: string, wanted: CertificateNames, now: Date): string | null {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return 'the key does not belong to the certificate';
  } catch (error) {
    return `the files are not a key and certificate (${(error as Error).message})`;
  }
  const validTo = new Date(x509.validTo);
  if (!(validTo.getTime() - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS)) {
    return `it expires on ${validTo.toISOString().slice(0, 10)}`;
  }
  if (!(new Date(x509.validFrom).getTime() <= now.getTime())) return 'it is not valid yet';
  // `subject: 'never'`: only subjectAltName counts, as in browsers.
  const missingIp = wanted.ips.find((ip) => x509.checkIP(ip) === undefined);
  if (missingIp !== undefined) return `it does not name ${missingIp}`;
  const missingName = wanted.dns.find((name) => x509.checkHost(name, { subject: 'never' }) === undefined);
  if (missingName !== undefined) return `it does not name ${missingName}`;
  return null;
}

/** A new self-signed key and certificate for `names`, valid from a day before `now`. */
export async function makeCertificate(names: CertificateNames, now: Date): Promise<{ key: string; cert: string }> {
  const notBeforeDate = new Date(now.getTime() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: 'padmesh on this laptop' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(now.getTime() + VALID_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.dns.map((value) => ({ type: 2 as const, value })),
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export interface KeepOptions {
  now?: Date;
  /** Told, in one line, why a certificate is being made. */
  onLog?: (line: string) => void;
  owner?: Owner;
}

/**
 * The key and certificate kept in `dir`, or new ones (written there, private) when there are
 * none or they do not fit `wanted`. Throws only when the folder cannot be used at all.
 */
export async function keepCertificate(
  dir: string,
  wanted: CertificateNames,
  options: KeepOptions = {},
): Promise<KeptCertificate> {
  const now = options.now ?? new Date();
  let madeBecause = NONE_KEPT;
  const key = readPrivateFile(dir, KEY_FILE, options.owner);
  const cert = readPrivateFile(dir, CERT_FILE, options.owner);
  if (key !== null && cert !== null) {
    const problem = certificateProblem(key, cert, wanted, now);
    if (problem === null) return described(key, cert, null);
    madeBecause = `the kept one cannot be used: ${problem}`;
  }
  options.onLog?.(
    `making a new HTTPS certificate in ${dir} (${madeBecause}); each phone will show the certificate warning ` +
      (madeBecause === NONE_KEPT ? 'once' : 'once more'),
  );
  const made = await makeCertificate(wanted, now);
  // The certificate last: a crash between the two leaves a pair that does not match, which the next start remakes.
  writePrivateFile(dir, KEY_FILE, made.key, options.owner);
  writePrivateFile(dir, CERT_FILE, made.cert, options.owner);
  return described(made.key, made.cert, madeBecause);
}

function described(key: string, cert: string, madeBecause: string | null): KeptCertificate {
  const x509 = new X509Certificate(cert);
  return { key, cert, fingerprint: x509.fingerprint256, validTo: new Date(x509.validTo), madeBecause };
}

/** How often `npm start -- --https` checks that the certificate still names the laptop's addresses. */
export const CHECK_EVERY_MS = 10_000;

/**
 * While the server runs: every `everyMs`, the names phones may use now (`wanted()`); when the
 * current certificate does not name them all (the laptop joined another network), a new one is
 * made (keepCertificate, which logs why) and handed to `onNew`. Returns a stop function.
 */
export function watchCertificate(
  dir: string,
  wanted: () => CertificateNames,
  current: KeptCertificate,
  onNew: (kept: KeptCertificate) => void,
  options: KeepOptions & { everyMs?: number } = {},
): () => void {
  let kept = current;
  let busy = false;
  const check = async (): Promise<void> => {
    if (busy) return;
    const names = wanted();
    if (certificateProblem(kept.key, kept.cert, names, options.now ?? new Date()) === null) return;
    busy = true;
    try {
      kept = await keepCertificate(dir, names, options);
      onNew(kept);
    } catch (error) {
      options.onLog?.(`could not make a new HTTPS certificate (${(error as Error).message}); the old one stays`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), options.everyMs ?? CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
