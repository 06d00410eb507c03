/**
 * One signal server instance in a process of its own, for tests that SIGKILL an instance
 * (tests/cluster/instance-death.test.ts). Configured by the environment (REDIS_URL,
 * PADMESH_SECRET, HEARTBEAT_MS, STATIC_DIR, ALLOWED_HOST); prints `{"port": N}` once it listens.
 */
import { createSignalServer } from '../../signal/server.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: process.env.STATIC_DIR || null,
  redis: process.env.REDIS_URL as string,
  secret: process.env.PADMESH_SECRET as string,
  limits: { heartbeatMs: Number(process.env.HEARTBEAT_MS ?? 5000) },
  allowedHosts: process.env.ALLOWED_HOST ? [process.env.ALLOWED_HOST] : [],
  onWarning: () => {},
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on('SIGTERM', () => {
  server.close().then(() => process.exit(0));
});
