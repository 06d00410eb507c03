/** The command line's pure parts: flags and environment → config, and the start-up banner. */
import { parseArgs } from 'node:util';
import { httpsUrl, httpUrl } from './lan.ts';
import { DEFAULT_LIMITS } from './limits.ts';

export const DEFAULT_STUN_PORT = 3478;
export const DEFAULT_HTTPS_PORT = 8443;

export const USAGE = `Usage: npm start -- [--host H] [--port P] [--https] [--https-port T] [--stun-port S]
                     [--capacity N] [--allowed-host NAME]… [--redis URL] [--secret-file FILE]

  --host H        interface to listen on (env HOST; default 0.0.0.0, every interface)
  --port P        port (env PORT; default 8080; 0 picks a free one)
  --https         also serve over HTTPS, with a self-signed certificate made once and kept (env
                  PADMESH_HTTPS=1). Phones then join over https and get a secure context: the
                  screen stays awake during a jam. Each phone shows a certificate warning once.
                  The DAW stays on http://localhost.
  --https-port T  the HTTPS port (env PADMESH_HTTPS_PORT; default ${DEFAULT_HTTPS_PORT}; 0 picks a free one)
  --stun-port S   UDP port of the STUN server on this laptop, which lets phones link directly
                  on WiFi that blocks mDNS (env PADMESH_STUN_PORT; default ${DEFAULT_STUN_PORT};
                  0 turns it off — unlike --port, it does not pick a free one)
  --capacity N    controllers per room (env PADMESH_CAPACITY; default ${DEFAULT_LIMITS.roomCapacity})
  --allowed-host NAME
                  a name the server answers to besides its own addresses, localhost and its
                  hostname (e.g. a name for the laptop in the LAN's DNS); repeat for more
                  (env PADMESH_ALLOWED_HOSTS, comma-separated). Other names get 403: that stops
                  web pages from reaching the server through DNS rebinding.
  --trust-proxy   behind a proxy on this machine (npm run dev), take each client's address
                  from X-Forwarded-For on connections from loopback
  --redis URL     share rooms with other instances through Redis (redis://host:6379; env
                  REDIS_URL): run several behind a load balancer (README, "Several instances").
                  Without it this process holds every room itself, as on a LAN.
  --secret-file FILE
                  the token secret, from a file (env PADMESH_SECRET_FILE; at least 16
                  characters): every instance sharing a Redis must have the same one, or tokens
                  from one are refused by the others
  -h, --help      this text

The token secret that lets rooms survive a restart, the bans, and the HTTPS certificate are kept
in PADMESH_STATE_DIR (default \${XDG_STATE_HOME:-~/.local/state}/padmesh).`;

export interface CliConfig {
  host: string;
  port: number;
  /** --https: the TLS port beside the plain one; null: plain http only (the default). */
  httpsPort: number | null;
  /** null: no STUN server (--stun-port 0). */
  stunPort: number | null;
  capacity: number;
  allowedHosts: string[];
  trustProxy: boolean;
  /** Several instances: the Redis they share rooms through. */
  redis?: string | undefined;
  /** Where the token secret is read from (else the state folder's). */
  secretFile?: string | undefined;
}

/** Flags beat environment variables, which beat defaults. Throws a usage error. */
export function readConfig(argv: string[], env: NodeJS.ProcessEnv): CliConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      https: { type: 'boolean' },
      'https-port': { type: 'string' },
      'stun-port': { type: 'string' },
      capacity: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'trust-proxy': { type: 'boolean' },
      redis: { type: 'string' },
      'secret-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const stunPort = integer(
    'stun-port',
    values['stun-port'] ?? env.PADMESH_STUN_PORT ?? String(DEFAULT_STUN_PORT),
    0,
    65535,
  );
  const https = values.https ?? (env.PADMESH_HTTPS !== undefined && /^(1|true|yes|on)$/i.test(env.PADMESH_HTTPS));
  const httpsPort = integer(
    'https-port',
    values['https-port'] ?? env.PADMESH_HTTPS_PORT ?? String(DEFAULT_HTTPS_PORT),
    0,
    65535,
  );
  if (values['https-port'] !== undefined && !https) throw new TypeError('--https-port needs --https');
  return {
    host: values.host ?? env.HOST ?? '0.0.0.0',
    port: integer('port', values.port ?? env.PORT ?? '8080', 0, 65535),
    httpsPort: https ? httpsPort : null,
    stunPort: stunPort === 0 ? null : stunPort,
    capacity: integer(
      'capacity',
      values.capacity ?? env.PADMESH_CAPACITY ?? String(DEFAULT_LIMITS.roomCapacity),
      1,
      256,
    ),
    allowedHosts: (values['allowed-host'] ?? env.PADMESH_ALLOWED_HOSTS?.split(',') ?? [])
      .map((name) => name.trim())
      .filter((name) => name !== '')
      .map(allowedHost),
    trustProxy: values['trust-proxy'] ?? false,
    redis: redisUrl(values.redis ?? env.REDIS_URL),
    secretFile: values['secret-file'] ?? (env.PADMESH_SECRET_FILE || undefined),
  };
}

function redisUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (!/^rediss?:\/\/\S+$/.test(url)) throw new TypeError(`--redis takes a redis:// or rediss:// URL, not "${url}"`);
  return url;
}

/** A name (or address) as a Host header would carry it, without port. */
function allowedHost(name: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.:-]{1,253})$/.test(name)) {
    throw new TypeError(`--allowed-host takes a host name or address, not "${name}"`);
  }
  return name.replace(/^\[|\]$/g, '');
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/**
 * The STUN server as the banner tells it: running on `port`, or off, either as asked
 * (`wanted` null: --stun-port 0) or because port `wanted` could not be opened.
 */
export type StunStatus = { on: true; port: number } | { on: false; wanted: number | null };

function stunLine(stun: StunStatus): string {
  if (stun.on) return `  STUN on udp/${stun.port}: phones learn their LAN address from it, no internet needed.`;
  if (stun.wanted === null) return '  STUN off (--stun-port 0): phones link directly only where the WiFi passes mDNS.';
  return `  STUN off: udp/${stun.wanted} could not be opened (see above); --stun-port picks another.`;
}

/** The HTTPS listener as the banner tells it: its port and the certificate's fingerprint. */
export interface HttpsStatus {
  port: number;
  fingerprint: string;
}

/**
 * What a phone shows the first time it opens the https page, and what to tap: the same words as
 * the DAW page's (client/views/DawPage.tsx) and docs/troubleshooting.md.
 */
export const CERTIFICATE_WARNING_STEPS = [
  'Each phone warns once that the connection is not private: the certificate was made by this',
  'laptop, not by an authority the phone knows. That is expected here. To go on:',
  '  iPhone (Safari): tap "Show Details", then "visit this website", then "Visit Website".',
  '  Android (Chrome): tap "Advanced", then "Proceed to <address> (unsafe)".',
  '  Firefox: tap "Advanced", then "Accept the Risk and Continue".',
];

/** What the terminal shows once the server listens; `https` when it serves HTTPS too. */
export function banner(
  hosts: string[],
  port: number,
  qr: string | null,
  stun: StunStatus,
  https: HttpsStatus | null = null,
): string {
  const phoneUrl = (host: string, path: string) =>
    https ? httpsUrl(host, https.port, path) : httpUrl(host, port, path);
  const lines = ['', '  padmesh is running.', '', `  DAW, on this laptop:  ${httpUrl('localhost', port, '/daw')}`];
  for (const host of hosts) lines.push(`  DAW, from the LAN:    ${phoneUrl(host, '/daw')}`);
  lines.push('', stunLine(stun));
  const [best] = hosts;
  if (best === undefined) {
    lines.push('', '  No LAN address found: join a WiFi network or a phone hotspot so phones can reach this laptop.');
  } else {
    lines.push('', `  Phones join at:       ${phoneUrl(best, '/join')}`);
    if (qr) lines.push('', qr.replace(/^/gm, '  ').trimEnd());
    lines.push(
      '',
      '  Scan it with a phone on the same network, then type the room code the DAW page shows',
      '  (the DAW page has a QR code that includes it).',
    );
  }
  if (https) {
    lines.push(
      '',
      `  HTTPS on port ${https.port} (plain http stays on ${port}), so phones keep their screen awake.`,
      ...CERTIFICATE_WARNING_STEPS.map((line) => `  ${line}`),
      `  The certificate's SHA-256 fingerprint, if a phone shows it:`,
      `  ${https.fingerprint}`,
    );
  }
  lines.push('', '  Ctrl-C stops the server.', '');
  return lines.join('\n');
}
