import type { Limits } from '../../signal/limits.ts';

/** Every load-generator client comes from 127.0.0.1: the per-address caps meant for a LAN, lifted. */
export const LOAD_LIMITS: Partial<Limits> = {
  maxConnections: 19_900,
  maxConnectionsPerAddress: 20_000,
  maxRooms: 20_000,
  maxRoomsPerAddress: 20_000,
  failedJoinRate: { perSecond: 1000, burst: 100_000 },
  addressMessageRate: { perSecond: 10_000_000, burst: 10_000_000 },
  addressByteRate: { perSecond: 1e12, burst: 1e12 },
};
