/**
 * One padmesh instance for the several-instances benchmark (bench/cluster.ts): with REDIS_URL it
 * shares rooms through Redis, without it it is the LAN default. Limits opened up for the load
 * (every client comes from 127.0.0.1). Prints `{"port": N}` once it listens.
 */
import { createSignalServer } from '../../signal/server.ts';
import { LOAD_LIMITS } from './load-limits.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: null,
  secret: process.env.PADMESH_SECRET as string,
  ...(process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : {}),
  limits: LOAD_LIMITS,
  onWarning: () => {},
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
