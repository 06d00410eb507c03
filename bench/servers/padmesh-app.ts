/**
 * padmesh's signal server serving a build of the web app, alone in its own process as `npm start`
 * runs it, for the startup benchmark (bench/hit-path.ts (e)): in the benchmark's own process the
 * server's answers would wait behind Playwright's traffic with the pages being timed. Serves
 * PADMESH_STATIC_DIR, with a STUN server on a free loopback port, and lets phones in by
 * PADMESH_PHONE_HOST. Prints `{"port": N}` once it listens.
 */
import { createSignalServer } from '../../signal/server.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: process.env.PADMESH_STATIC_DIR as string,
  secret: process.env.PADMESH_SECRET as string,
  stunPort: 0,
  allowedHosts: [process.env.PADMESH_PHONE_HOST as string],
  onWarning: () => {},
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
