/**
 * The `npm start` command line: reads flags and environment, starts the signal server with
 * the built web app and the STUN server (which warns and stays off if its port is taken),
 * prints the LAN URLs and a QR code of the join URL, and closes gracefully on Ctrl-C or
 * SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import QRCode from 'qrcode';
import { banner, type CliConfig, readConfig, type StunStatus, USAGE } from './cli.ts';
import { httpUrl, reachableHosts } from './lan.ts';
import { type BanStore, createSignalServer } from './server.ts';
import { defaultStateDir, fileBanStore, loadOrCreateSecret } from './state-dir.ts';

const CLIENT_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'client');

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
  let banStore: BanStore | undefined;
  const stateDir = defaultStateDir();
  if (config.secretFile !== undefined) {
    // Several instances must share one secret: it is given to each of them.
    try {
      secret = readFileSync(config.secretFile, 'utf8').trim();
    } catch (error) {
      console.error(`The token secret could not be read from ${config.secretFile}: ${(error as Error).message}`);
      process.exit(2);
    }
    if (secret.length < 16) {
      console.error(`The secret in ${config.secretFile} is shorter than 16 characters.`);
      process.exit(2);
    }
  }
  try {
    secret ??= loadOrCreateSecret(stateDir);
    // With Redis the bans are kept there, for every instance (signal/cluster.ts).
    if (config.redis === undefined) banStore = fileBanStore(stateDir);
  } catch (error) {
    console.warn(`  Could not keep the token secret in ${stateDir} (${(error as Error).message});`);
    console.warn('  rooms and bans will not survive a restart of this server. Set PADMESH_STATE_DIR to a');
    console.warn('  writable folder of your own.');
  }

  const server = await createSignalServer({
    host: config.host,
    port: config.port,
    stunPort: config.stunPort,
    staticDir: CLIENT_DIST,
    limits: { roomCapacity: config.capacity },
    allowedHosts: config.allowedHosts,
    trustProxy: config.trustProxy,
    ...(config.redis === undefined ? {} : { redis: config.redis }),
    ...(secret === undefined ? {} : { secret }),
    ...(banStore === undefined ? {} : { banStore }),
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
  const stun: StunStatus =
    server.stunPort === null ? { on: false, wanted: config.stunPort } : { on: true, port: server.stunPort };
  console.log(banner(hosts, server.port, qr, stun));

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
