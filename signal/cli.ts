/** The command line's pure parts: flags and environment → config, and the start-up banner. */
import { parseArgs } from 'node:util';
import { httpUrl } from './lan.ts';
import { DEFAULT_LIMITS } from './limits.ts';

export const USAGE = `Usage: npm start -- [--host H] [--port P] [--capacity N]

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
