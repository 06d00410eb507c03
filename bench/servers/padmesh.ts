/** padmesh's signal server as a benchmark contender, with limits opened up for the load. */
import { createSignalServer } from '../../signal/server.ts';
import { serveBenchContender } from './contender.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: null,
  // Every load-generator client comes from 127.0.0.1: lift the per-address caps meant for a LAN.
  limits: {
    maxConnections: 19_900,
    maxConnectionsPerAddress: 20_000,
    maxRooms: 20_000,
    maxRoomsPerAddress: 20_000,
    failedJoinRate: { perSecond: 1000, burst: 100_000 },
    addressMessageRate: { perSecond: 10_000_000, burst: 10_000_000 },
    addressByteRate: { perSecond: 1e12, burst: 1e12 },
  },
});
serveBenchContender(server.port);
