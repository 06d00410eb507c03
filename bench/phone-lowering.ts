/**
 * What lowering the hit path for the floor costs, on both ends: client/net/hit-sender.ts (the
 * phone's send, and the packet writer it calls) and bench/daw-receive.ts (the DAW's receive, decode,
 * dedup, timing and recording of each hit) built twice with the real build's transform, for the
 * phones' floor (package.json's browserslist: iOS Safari 15.4, whose class fields oxc lowers; one
 * build serves both pages, so the DAW's code is lowered too) and for ES2022 (nothing lowered), then
 * timed in Node (V8; a phone's JavaScriptCore or the laptop's browser differs in scale, not in kind).
 * Standalone: `npx tsx bench/phone-lowering.ts`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { buildTargets, phoneBrowsers } from '../scripts/browser-floor.ts';

const root = join(import.meta.dirname, '..');
const HITS = 200_000;
const ROUNDS = 7;

interface Sender {
  send(pad: number, velocity: number): string;
}
type ReceiveHits = (hits: number, gapMs: number) => number;
type SenderClass = new (
  transports: { p2p(packet: Uint8Array): boolean; p2pLively(): boolean; relay(hit: unknown): boolean },
  options: { epoch: number; now?: () => number },
) => Sender;

/** simple-peer needs a browser to load; the bench passes DawPeers a stand-in channel instead. */
const noWebRtc = {
  name: 'no-webrtc',
  enforce: 'pre' as const,
  resolveId: (id: string) => (id.startsWith('@thaunknown/simple-peer') ? '\0no-webrtc' : null),
  load: (id: string) => (id === '\0no-webrtc' ? 'export default class {}' : null),
};

/** Builds one entry as the app's build would for `target`; returns its code and its exports. */
async function buildEntry<T>(entry: string, target: string[], dir: string): Promise<{ code: string; module: T }> {
  const name = basename(entry, '.ts');
  const outDir = join(dir, name, target.join('-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    plugins: [noWebRtc],
    build: { outDir, target, minify: true, lib: { entry, formats: ['es'], fileName: name } },
  });
  const file = join(outDir, `${name}.js`);
  return { code: readFileSync(file, 'utf8'), module: (await import(pathToFileURL(file).href)) as T };
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
  const senderEntry = join(root, 'client', 'net', 'hit-sender.ts');
  const receiverEntry = join(root, 'bench', 'daw-receive.ts');
  type Sender = { HitSender: SenderClass };
  type Receiver = { receiveHits: ReceiveHits };
  const builds = {
    floor: {
      sender: await buildEntry<Sender>(senderEntry, floorTargets, dir),
      receiver: await buildEntry<Receiver>(receiverEntry, floorTargets, dir),
    },
    native: {
      sender: await buildEntry<Sender>(senderEntry, ['es2022'], dir),
      receiver: await buildEntry<Receiver>(receiverEntry, ['es2022'], dir),
    },
  };
  const times = {
    floor: { send: [] as number[], receive: [] as number[] },
    native: { send: [] as number[], receive: [] as number[] },
  };
  for (let i = 0; i < ROUNDS; i++) {
    for (const kind of ['floor', 'native'] as const) {
      times[kind].send.push(round(builds[kind].sender.module.HitSender));
      times[kind].receive.push(builds[kind].receiver.module.receiveHits(HITS, 20));
    }
  }
  const weakMaps = (code: string) => (code.match(/new WeakMap/g) ?? []).length;
  const line = (label: string, kind: 'floor' | 'native', part: 'sender' | 'receiver') => {
    const ns = median(times[kind][part === 'sender' ? 'send' : 'receive']).toFixed(0);
    console.log(`  ${label}: ${ns} ns (${weakMaps(builds[kind][part].code)} WeakMaps)`);
  };
  console.log(`${HITS} hits × ${ROUNDS} rounds, median ns per hit (Node ${process.version}):`);
  console.log('phone, HitSender.send():');
  line(`built for ${floorTargets.join(', ')}`, 'floor', 'sender');
  line('built for es2022 (baseline)', 'native', 'sender');
  console.log('DAW, a P2P packet received, read, deduped, timed (steady mode) and recorded (bench/daw-receive.ts):');
  line(`built for ${floorTargets.join(', ')}`, 'floor', 'receiver');
  line('built for es2022 (baseline)', 'native', 'receiver');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
