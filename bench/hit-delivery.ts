/**
 * `npm run bench:hits`: tap → DAW delivery time of pad hits on loopback, through padmesh's
 * own pages: one phone on P2P and one without WebRTC (so on the relay), in the same browser
 * and the same run, alternating rounds. The delay is the DAW's arrival time minus the tap's
 * `sentAt` (both pages share this machine's clock). Runs itself inside a loopback-only
 * network namespace, and writes docs/benchmarks-hits.md.
 *
 *   npm run bench:hits               # 3 rounds × 100 taps per path
 *   npm run bench:hits -- --taps 30  # fewer
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { runInLoopbackNamespace } from '../scripts/loopback-namespace.ts';
import { hitLog, isLoopbackOnly, Jam, padPoint, touch, withoutWebRtc } from '../tests/helpers/jam.ts';
import { median, quantile } from './stats.ts';

const { values } = parseArgs({ options: { taps: { type: 'string' }, rounds: { type: 'string' } } });
const taps = Number(values.taps ?? 100);
const rounds = Number(values.rounds ?? 3);

if (!isLoopbackOnly()) {
  // Not in a namespace yet: run this same script in one.
  process.exit(runInLoopbackNamespace(process.execPath, [...process.execArgv, ...process.argv.slice(1)], process.env));
}

/** Taps pad 0 `taps` times, 25 ms apart, reading the DAW's delays as it goes (its list keeps 24). */
async function measure(daw: Page, phone: Page, via: string): Promise<number[]> {
  const delays: number[] = [];
  const point = await padPoint(phone, 0);
  for (let i = 1; i <= taps; i++) {
    await touch(phone, [point]);
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (i % 20 === 0 || i === taps) {
      const batch = (await hitLog(daw)).slice(-(i % 20 || 20));
      if (batch.some((hit) => hit.via !== via)) throw new Error(`expected every hit via ${via}`);
      delays.push(...batch.map((hit) => hit.delayMs ?? Number.NaN));
    }
  }
  return delays;
}

const jam = await Jam.launch();
try {
  await jam.startServer();
  const { daw, code } = await jam.openDaw();
  const p2p = await jam.joinPhone(code, 'P2P');
  await p2p.locator('[data-testid=transport][data-transport=p2p]').waitFor({ timeout: 15_000 });
  const relay = await jam.joinPhone(code, 'Relay', withoutWebRtc);
  const results: Record<string, number[][]> = { p2p: [], relay: [] };
  for (let round = 1; round <= rounds; round++) {
    results.p2p?.push(await measure(daw, p2p, 'p2p'));
    results.relay?.push(await measure(daw, relay, 'relay'));
  }
  const row = (path: string, perRound: number[][]) => {
    const stat = (p: number) =>
      median(
        perRound.map((delays) =>
          quantile(
            [...delays].sort((a, b) => a - b),
            p,
          ),
        ),
      );
    return `| ${path} | ${perRound.flat().length} | ${[0.5, 0.9, 0.99, 1].map((p) => stat(p).toFixed(2)).join(' | ')} |`;
  };
  const markdown = `# Pad-hit delivery

Written by \`npm run bench:hits\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'},
Linux ${release()}, Node ${process.version}, headless Chromium, in a loopback-only network namespace.

One DAW page and two phone pages (touch emulation) in one headless Chromium, against the
real signal server: the phone "P2P" sends over its WebRTC data channel, the phone "Relay"
has no WebRTC, so its hits go through the signal server's \`relay\`. Each taps pad 0
${taps} times, 25 ms apart, per round; the paths alternate over ${rounds} rounds and each figure
is the median of the rounds. The delay is the DAW page's arrival time (read before anything
is done with the hit) minus the tap time the phone stamped in its \`pointerdown\` handler:
both pages read this machine's one clock. It includes the phone's handler, the encoding,
the network path and the DAW's event dispatch, not the audio output.

| path | hits | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |
|---|---|---|---|---|---|
${Object.entries(results)
  .map(([path, perRound]) => row(path, perRound))
  .join('\n')}

Browser, pages and test driver share the machine's ${cpus().length} cores, so these are pessimistic.
`;
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks-hits.md');
  writeFileSync(out, markdown);
  console.log(`${markdown}\nwritten to ${out}`);
} finally {
  await jam.close();
}
process.exit(0);
