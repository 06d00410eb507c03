/**
 * Runs a command inside a fresh, loopback-only network namespace: `unshare -rn` (a user and
 * a network namespace, so it works without root where the kernel allows it), then `ip link
 * set lo up`. Tests that make WebRTC connections must run this way: ICE then only ever sees
 * 127.0.0.1 and cannot touch the machine's real network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NAMESPACE_HINT =
  'The browser tests run in a loopback-only network namespace and need `unshare` (util-linux) and `ip` (iproute2),\n' +
  'and a kernel that lets this user make namespaces (as root it always can). On Debian: sudo apt-get install -y iproute2';

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

/** The `ip` binary, installing Debian's iproute2 first when it is missing and we are root. */
export function ensureIp(): string {
  const found = IP_CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(NAMESPACE_HINT);
  console.log('  `ip` not found: installing Debian’s iproute2 package (once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'iproute2'], { stdio: 'inherit', env });
  const installed = IP_CANDIDATES.find((path) => existsSync(path));
  if (!installed) throw new Error(`apt-get installed iproute2 but no ip binary was found.\n${NAMESPACE_HINT}`);
  return installed;
}

const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft', '/bin/nft'];
const NFT_HINT =
  'The LAN test (tests/e2e/lan.test.ts) blocks multicast DNS between two network namespaces with `nft` (nftables).\n' +
  'On Debian: sudo apt-get install -y nftables';

/** The `nft` binary, installing Debian's nftables first when it is missing and we are root. */
export function ensureNft(): string {
  const found = NFT_CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(NFT_HINT);
  console.log('  `nft` not found: installing Debian’s nftables package (once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'nftables'], { stdio: 'inherit', env });
  const installed = NFT_CANDIDATES.find((path) => existsSync(path));
  if (!installed) throw new Error(`apt-get installed nftables but no nft binary was found.\n${NFT_HINT}`);
  return installed;
}

/** Throws with instructions unless a loopback-only namespace can be made here. */
export function checkLoopbackNamespace(): void {
  const ip = ensureIp();
  const probe = spawnSync('unshare', ['-rn', ip, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Cannot make a network namespace here: ${probe.error?.message ?? probe.stderr.trim()}\n${NAMESPACE_HINT}`,
    );
  }
}

/** Runs `command args…` in a new loopback-only network namespace; returns its exit status. */
export function runInLoopbackNamespace(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const ip = ensureIp();
  const result = spawnSync(
    'unshare',
    ['-rn', 'sh', '-c', `"${ip}" link set lo up && exec "$@"`, 'sh', command, ...args],
    { stdio: 'inherit', env },
  );
  if (result.error) throw new Error(`${result.error.message}\n${NAMESPACE_HINT}`);
  return result.status ?? 1;
}
