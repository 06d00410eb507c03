/**
 * Which `Host` header values name this server. A page on another site can make a browser
 * talk to the laptop by DNS rebinding (its own name, re-pointed at the laptop's address): the
 * browser then sends that name as Host, and Origin agrees with it, so an Origin check alone
 * lets it in. So every HTTP route and the WebSocket upgrade answer only to names that are this
 * machine's own: localhost (and *.localhost, which browsers resolve to loopback themselves),
 * loopback and this machine's interface addresses, its hostname (and hostname.local, its mDNS
 * name), and whatever the person starting the server allowed (`--allowed-host`).
 *
 * Interface addresses change (a laptop joins WiFi after the server started): an unknown Host
 * that is an IP literal makes the list be read again, at most once a second.
 */
import { isIP } from 'node:net';
import { networkInterfaces, hostname as osHostname } from 'node:os';

export interface HostGuardOptions {
  /** Extra names (or addresses) this server answers to, e.g. a name in the LAN's DNS. */
  allowedHosts?: readonly string[];
  /** Default: os.networkInterfaces (tests pass their own). */
  interfaces?: typeof networkInterfaces;
  /** Default: os.hostname. */
  hostname?: () => string;
}

/** Re-read the interfaces at most this often (ms) when an unknown address comes. */
const REFRESH_MS = 1_000;

export interface HostGuard {
  /** Whether a Host header names this server. */
  allows(hostHeader: string | undefined): boolean;
}

export function createHostGuard(options: HostGuardOptions = {}): HostGuard {
  const readInterfaces = options.interfaces ?? networkInterfaces;
  const readHostname = options.hostname ?? osHostname;
  const extra = new Set((options.allowedHosts ?? []).map(normalizeName));
  let known = new Set<string>();
  let readAt = Number.NEGATIVE_INFINITY;

  const refresh = (now: number): void => {
    readAt = now;
    const names = new Set<string>(extra);
    for (const infos of Object.values(readInterfaces())) {
      for (const info of infos ?? []) names.add(normalizeName(info.address));
    }
    const name = normalizeName(readHostname());
    if (name !== '') names.add(name).add(`${name}.local`);
    known = names;
  };
  refresh(performance.now());

  return {
    allows(hostHeader) {
      if (hostHeader === undefined) return false;
      const name = hostName(hostHeader);
      if (name === null) return false;
      if (isLoopbackName(name) || known.has(name)) return true;
      const now = performance.now();
      if (isIP(name) === 0 || now - readAt < REFRESH_MS) return false;
      refresh(now);
      return known.has(name);
    },
  };
}

/** The name part of a Host header (no port; IPv6 without brackets or zone), lower case; null if malformed. */
export function hostName(hostHeader: string): string | null {
  let name: string;
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    if (end < 0) return null;
    name = hostHeader.slice(1, end);
    const rest = hostHeader.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    if (isIP(name.split('%')[0] as string) !== 6) return null;
  } else {
    const colon = hostHeader.indexOf(':');
    name = colon < 0 ? hostHeader : hostHeader.slice(0, colon);
    if (colon >= 0 && !/^\d{1,5}$/.test(hostHeader.slice(colon + 1))) return null;
    if (!/^[a-zA-Z0-9.-]{1,253}$/.test(name)) return null;
  }
  return normalizeName(name);
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, ''); // "localhost." is localhost
  const bare = lower.split('%')[0] as string; // an IPv6 zone is not part of the address
  return isIP(bare) === 6 ? canonicalIpv6(bare) : bare;
}

/** IPv6 in one spelling, so "::1" and "0:0:0:0:0:0:0:1" are the same name. */
function canonicalIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}

/** Names that can only ever mean this machine. */
function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '::ffff:7f00:1' || name.startsWith('::ffff:127.');
}

/**
 * Whether a page at `http://<Host>` is a secure context (a "potentially trustworthy" origin):
 * only when the name is loopback. A phone on `http://<lan-ip>` is not.
 */
export function isLoopbackHost(hostHeader: string | undefined): boolean {
  const name = hostHeader === undefined ? null : hostName(hostHeader);
  return name !== null && isLoopbackName(name);
}

/** Whether a remote address is this machine's loopback. */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
