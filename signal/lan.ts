/** The laptop's addresses as phones on the LAN see them, best first. */
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

/** Interfaces that are almost never the WiFi/Ethernet a phone shares (containers, VMs, VPNs). */
const VIRTUAL_INTERFACE = /^(docker|br-|veth|virbr|vmnet|vboxnet|utun|tun|tap|wg|zt|tailscale|lxc|lxd|cni|flannel)/;

function rank(name: string, address: string): number {
  if (VIRTUAL_INTERFACE.test(name)) return 3;
  if (address.startsWith('192.168.') || address.startsWith('10.')) return 0;
  if (/^172\.(1[6-9]|2\d|3[01])\./.test(address)) return 1;
  return 2;
}

export interface LanOptions {
  /** Include virtual interfaces (containers, VMs, VPNs), ranked last. Default true. */
  virtual?: boolean;
}

/** Non-loopback IPv4 addresses, home-network ranges first and virtual interfaces last (or left out). */
export function lanAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
  options: LanOptions = {},
): string[] {
  const found: { address: string; rank: number }[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    if (options.virtual === false && VIRTUAL_INTERFACE.test(name)) continue;
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      found.push({ address: info.address, rank: rank(name, info.address) });
    }
  }
  return found.sort((a, b) => a.rank - b.rank).map((entry) => entry.address);
}

/** Hosts to print for a server bound to `host`: every LAN address when it listens on all of them. */
export function reachableHosts(
  host: string,
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>,
  options: LanOptions = {},
): string[] {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  return wildcard ? lanAddresses(interfaces, options) : [host];
}

/** `path` '' gives an origin (no trailing slash). */
export function httpUrl(host: string, port: number, path = '/'): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}${port === 80 ? '' : `:${port}`}${path}`;
}

/** The same over TLS (`npm start -- --https`). */
export function httpsUrl(host: string, port: number, path = '/'): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `https://${hostPart}${port === 443 ? '' : `:${port}`}${path}`;
}
