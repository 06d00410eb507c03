/**
 * One padmesh instance for the several-instances benchmark (bench/cluster.ts): with REDIS_URL it
 * shares rooms through Redis, without it it is the LAN default. Limits opened up for the load
 * (every client comes from 127.0.0.1). Prints `{"port": N}` once it listens.
 */
import { createSignalServer } from '../../signal/server.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: null,
  secret: process.env.PADMESH_SECRET as string,
  ...(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {}),
  limits: {
    maxConnections: 19_900,
    maxConnectionsPerAddress: 20_000,
    maxRooms: 20_000,
    maxRoomsPerAddress: 20_000,
    failedJoinRate: { perSecond: 1000, burst: 100_000 },
    addressMessageRate: { perSecond: 10_000_000, burst: 10_000_000 },
    addressByteRate: { perSecond: 1e12, burst: 1e12 },
  },
  onWarning: () => {},
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
