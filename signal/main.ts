/**
 * The `npm start` command line: reads flags and environment, starts the signal server with
 * the built web app, prints the LAN URLs and a QR code of the join URL, and closes
 * gracefully on Ctrl-C or SIGTERM.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { httpUrl, reachableHosts } from './lan.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { defaultStateDir, loadOrCreateSecret } from './secret-file.ts';
import { createSignalServer } from './server.ts';

export const CLIENT_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'client');

const USAGE = `Usage: npm start -- [--host H] [--port P] [--capacity N]

  --host H       interface to listen on (env HOST; default 0.0.0.0, every interface)
  --port P       port (env PORT; default 8080; 0 picks a free one)
  --capacity N   controllers per room (env PADMESH_CAPACITY; default ${DEFAULT_LIMITS.roomCapacity})
  -h, --help     this text

The token secret that lets rooms survive a restart is kept in PADMESH_STATE_DIR
(default \${XDG_STATE_HOME:-~/.local/state}/padmesh).`;

export interface CliConfig {
  host: string;
  port: number;
  capacity: number;
}

/** Flags beat environment variables, which beat defaults. Throws a usage error. */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): CliConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      capacity: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    host: values.host ?? env.HOST ?? '0.0.0.0',
    port: integer('port', values.port ?? env.PORT ?? '8080', 0, 65535),
    capacity: integer(
      'capacity',
      values.capacity ?? env.PADMESH_CAPACITY ?? String(DEFAULT_LIMITS.roomCapacity),
      1,
      256,
    ),
  };
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/** What the terminal shows once the server listens. */
export function banner(hosts: string[], port: number, qr: string | null): string {
  const lines = ['', '  padmesh is running.', '', `  DAW, on this laptop:  ${httpUrl('localhost', port, '/daw')}`];
  for (const host of hosts) lines.push(`  DAW, from the LAN:    ${httpUrl(host, port, '/daw')}`);
  const [best] = hosts;
  if (best === undefined) {
    lines.push('', '  No LAN address found: join a WiFi network or a phone hotspot so phones can reach this laptop.');
  } else {
    lines.push('', `  Phones join at:       ${httpUrl(best, port, '/join')}`);
    if (qr) lines.push('', qr.replace(/^/gm, '  ').trimEnd());
    lines.push(
      '',
      '  Scan it with a phone on the same network, then type the room code the DAW page shows',
      '  (the DAW page has a QR code that includes it).',
    );
  }
  lines.push('', '  Ctrl-C stops the server.', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config: CliConfig | 'help';
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (config === 'help') {
    console.log(USAGE);
    return;
  }

  let secret: string | undefined;
  const stateDir = defaultStateDir();
  try {
    secret = loadOrCreateSecret(stateDir);
  } catch (error) {
    console.warn(`  Could not keep the token secret in ${stateDir} (${(error as Error).message});`);
    console.warn('  rooms will not survive a restart of this server. Set PADMESH_STATE_DIR to a writable folder.');
  }

  const server = await createSignalServer({
    host: config.host,
    port: config.port,
    staticDir: CLIENT_DIST,
    limits: { roomCapacity: config.capacity },
    ...(secret === undefined ? {} : { secret }),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') console.error(`Port ${config.port} is in use: choose another with --port.`);
    else if (error.code === 'EADDRNOTAVAIL') console.error(`This machine has no address ${config.host}: check --host.`);
    else console.error(error);
    process.exit(1);
  });

  const hosts = reachableHosts(server.host);
  const [best] = hosts;
  const qr =
    best === undefined
      ? null
      : await QRCode.toString(httpUrl(best, server.port, '/join'), { type: 'terminal', small: true });
  console.log(banner(hosts, server.port, qr));

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130); // a second Ctrl-C: do not wait
    stopping = true;
    console.log(`\n  ${signal}: closing (clients will reconnect when it is back)…`);
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
