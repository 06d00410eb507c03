/**
 * What lowering the phone's hit path for the floor costs: client/net/hit-sender.ts (and the packet
 * writer it calls) built twice with the real build's transform, for the phones' floor
 * (package.json's browserslist: iOS Safari 15.4, whose class fields oxc lowers) and for ES2022
 * (nothing lowered), then HitSender.send() timed in Node (V8; a phone's JavaScriptCore differs in
 * scale, not in kind). Standalone: `npx tsx bench/phone-lowering.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { buildTargets, phoneBrowsers } from '../scripts/browser-floor.ts';

const root = join(import.meta.dirname, '..');
const HITS = 200_000;
const ROUNDS = 7;

interface Sender {
  send(pad: number, velocity: number): string;
}
type SenderClass = new (
  transports: { p2p(packet: Uint8Array): boolean; p2pLively(): boolean; relay(hit: unknown): boolean },
  options: { epoch: number; now?: () => number },
) => Sender;

async function buildSender(target: string[], dir: string): Promise<{ code: string; HitSender: SenderClass }> {
  const outDir = join(dir, target.join('-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir,
      target,
      minify: true,
      lib: { entry: join(root, 'client', 'net', 'hit-sender.ts'), formats: ['es'], fileName: 'hit-sender' },
    },
  });
  const url = pathToFileURL(join(outDir, 'hit-sender.js')).href;
  const module = (await import(url)) as { HitSender: SenderClass };
  const { readFileSync } = await import('node:fs');
  return { code: readFileSync(join(outDir, 'hit-sender.js'), 'utf8'), HitSender: module.HitSender };
}

/** ns per send(), one round: taps 1 ms apart on a channel that takes everything. */
function round(HitSender: SenderClass): number {
  let clock = 1e12;
  const sender = new HitSender(
    { p2p: () => true, p2pLively: () => true, relay: () => true },
    { epoch: 1, now: () => (clock += 1) },
  );
  const start = process.hrtime.bigint();
  for (let i = 0; i < HITS; i++) sender.send(i & 15, 100);
  return Number(process.hrtime.bigint() - start) / HITS;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

const dir = mkdtempSync(join(tmpdir(), 'padmesh-lowering-'));
try {
  const floorTargets = buildTargets(phoneBrowsers());
  const floor = await buildSender(floorTargets, dir);
  const native = await buildSender(['es2022'], dir);
  const times = { floor: [] as number[], native: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    times.floor.push(round(floor.HitSender));
    times.native.push(round(native.HitSender));
  }
  const weakMaps = (code: string) => (code.match(/new WeakMap/g) ?? []).length;
  console.log(`HitSender.send(), ${HITS} hits × ${ROUNDS} rounds, median ns per hit (Node ${process.version}):`);
  console.log(
    `  built for ${floorTargets.join(', ')}: ${median(times.floor).toFixed(0)} ns (${weakMaps(floor.code)} WeakMaps)`,
  );
  console.log(
    `  built for es2022 (baseline): ${median(times.native).toFixed(0)} ns (${weakMaps(native.code)} WeakMaps)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
