/**
 * padmesh's signal server with its default limits (signal/limits.ts), for the flood benchmark:
 * there every member connects from a loopback address of its own, as phones on a LAN do, so no
 * per-address cap needs lifting. Only where it listens is set (loopback, a free port) and that
 * it serves no web app.
 */
import { createSignalServer } from '../../signal/server.ts';
import { serveBenchContender } from './contender.ts';

const server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: null });
serveBenchContender(server.port);
