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

/** Where Debian (and most Linux) keeps a system tool. */
const sbin = (name: string) => [`/usr/sbin/${name}`, `/sbin/${name}`, `/usr/bin/${name}`, `/bin/${name}`];

/**
 * The path of a system tool, installing its Debian package first when it is missing and we
 * are root (CI); otherwise an error that says how.
 */
function ensureTool(name: string, debianPackage: string, hint: string): string {
  const found = sbin(name).find((path) => existsSync(path));
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(hint);
  console.log(`  \`${name}\` not found: installing Debian’s ${debianPackage} package (once)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', debianPackage], { stdio: 'inherit', env });
  const installed = sbin(name).find((path) => existsSync(path));
  if (!installed) throw new Error(`apt-get installed ${debianPackage} but no ${name} binary was found.\n${hint}`);
  return installed;
}

/** `ip` (iproute2): brings up loopback in the namespace, and builds the LAN test's hosts. */
export const ensureIp = (): string => ensureTool('ip', 'iproute2', NAMESPACE_HINT);

/** `nft` (nftables): the LAN test blocks multicast DNS between its two hosts with it. */
export const ensureNft = (): string =>
  ensureTool(
    'nft',
    'nftables',
    'The LAN test (tests/e2e/lan.test.ts) blocks multicast DNS between two network namespaces with `nft` (nftables).\n' +
      'On Debian: sudo apt-get install -y nftables',
  );

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
