/** padmesh's signal server as a benchmark contender, with limits opened up for the load. */
import { createSignalServer } from '../../signal/server.ts';
import { serveBenchContender } from './contender.ts';
import { LOAD_LIMITS } from './load-limits.ts';

const server = await createSignalServer({
  host: '127.0.0.1',
  port: 0,
  staticDir: null,
  limits: LOAD_LIMITS,
});
serveBenchContender(server.port);
