/** Debian's `redis-server`, for the tests of several instances sharing rooms (tests/cluster/). */
import { ensureDebianTool, firstExisting } from './debian-package.ts';

export const findRedisServer = (): string | null => firstExisting(['/usr/bin/redis-server', '/usr/sbin/redis-server']);

export const ensureRedisServer = (): string =>
  ensureDebianTool({
    name: '`redis-server`',
    debianPackage: 'redis-server',
    find: findRedisServer,
    hint:
      'The tests of several signal server instances (tests/cluster/) run a real Redis.\n' +
      'On Debian: sudo apt-get install -y redis-server',
  });
