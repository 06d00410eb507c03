/**
 * Runs a command inside a fresh, loopback-only network namespace: `unshare -rn` (a user and
 * a network namespace, so it works without root where the kernel allows it), then `ip link
 * set lo up`. Tests that make WebRTC connections must run this way: ICE then only ever sees
 * 127.0.0.1 and cannot touch the machine's real network.
 */
import { spawnSync } from 'node:child_process';
import { ensureDebianTool, firstExisting } from './debian-package.ts';

export const NAMESPACE_HINT =
  'The browser tests run in a loopback-only network namespace and need `unshare` (util-linux) and `ip` (iproute2),\n' +
  'and a kernel that lets this user make namespaces (as root it always can). On Debian: sudo apt-get install -y iproute2';

/** Where Debian (and most Linux) keeps a system tool. */
const sbin = (name: string) => () =>
  firstExisting([`/usr/sbin/${name}`, `/sbin/${name}`, `/usr/bin/${name}`, `/bin/${name}`]);

/** `ip` (iproute2): brings up loopback in the namespace, and builds the LAN test's hosts. */
export const ensureIp = (): string =>
  ensureDebianTool({ name: '`ip`', debianPackage: 'iproute2', find: sbin('ip'), hint: NAMESPACE_HINT });

/** `nft` (nftables): the LAN test blocks multicast DNS between its two hosts with it. */
export const ensureNft = (): string =>
  ensureDebianTool({
    name: '`nft`',
    debianPackage: 'nftables',
    find: sbin('nft'),
    hint:
      'The LAN test (tests/e2e/lan.test.ts) blocks multicast DNS between two network namespaces with `nft` (nftables).\n' +
      'On Debian: sudo apt-get install -y nftables',
  });

/** `python3`: the faulty-LAN test's userspace wire (tests/helpers/tap-wire.py) needs an ioctl Node lacks. */
export const ensurePython = (): string =>
  ensureDebianTool({
    name: '`python3`',
    debianPackage: 'python3',
    find: () => firstExisting(['/usr/bin/python3', '/bin/python3', '/usr/local/bin/python3']),
    hint:
      'The faulty-LAN test (tests/e2e/faulty-lan.test.ts) joins two network namespaces with a userspace wire written\n' +
      'in Python 3 (standard library only: tests/helpers/tap-wire.py). On Debian: sudo apt-get install -y python3',
  });

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
