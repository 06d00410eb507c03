/**
 * Issue 4 (a) and (e), in headless Chromium on loopback:
 *
 *  (a) one-way delivery of pad hits at 200/s through padmesh's own pages (a phone tapping
 *      its real pads, the DAW page's recorder), beside a bare RTCDataChannel between the same
 *      pages (bench/raw-channel.ts) and beside the signal server's relay (a phone without
 *      WebRTC), alternating in one browser and one run; then 8 phones at 200/s each, padmesh
 *      beside 8 raw channels, counting lost and doubled hits.
 *  (e) a controller page opened → its first hit delivered over P2P; which chunks the /join
 *      and /daw pages load (recorded in Chromium) and their gzip sizes from dist/client.
 *
 * Needs a loopback-only network namespace. Alone: `npx tsx bench/hit-path.ts [--quick] [--no-build]`
 * (re-runs itself in one); from bench/run.ts: `hitPathBenchmark({ quick })`.
 */
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import type { CDPSession, Page } from 'playwright-core';
import type { RecordedHits } from '../client/state/hit-recorder.ts';
import { LAPTOP, PHONE } from '../tests/helpers/browser.ts';
import { dawReady, Jam, memberRow, recordedHits, tapRhythm, waitForP2p, withoutWebRtc } from '../tests/helpers/jam.ts';
import {
  type BenchSection,
  type BrowserBenchOptions,
  buildClient,
  isMain,
  medianOfRounds,
  ms,
  NAME_SHIM,
  runAlone,
  type Summary,
  shimNames,
  sleep,
  summarize,
  verdict,
  waitUntil,
  withTimeout,
  writeResults,
} from './browser-common.ts';
import {
  closeRaw,
  connectRaw,
  installReceiver,
  readReceiver,
  receivedCount,
  resetReceiver,
  sendRaw,
} from './raw-channel.ts';
import { median } from './stats.ts';

const INTERVAL_MS = 5; // 200 hits/s
const PHONES = 8;
/** Player names no other text on the DAW page contains. */
const NAMES = ['Anya', 'Bruno', 'Cleo', 'Dmitri', 'Esme', 'Farid', 'Greta', 'Hugo'];
const WAIT = { timeout: 15_000 };
/** Targets of issue 4. */
const P50_RATIO = 1.1;
const P99_RATIO = 1.25;
const FIRST_HIT_MS = 300;
const CONTROLLER_GZIP_KB = 35;

interface Plan {
  /** One controller: rounds × hits per contender per round. */
  rounds: number;
  hits: number;
  /** 8 controllers at 200/s, then at 50/s: rounds × hits per controller per round. */
  multiRounds: number;
  multiHits: number;
  slowHits: number;
  /** Controller page loads timed to the first P2P hit. */
  startups: number;
  warmup: number;
}

const FULL: Plan = { rounds: 4, hits: 500, multiRounds: 3, multiHits: 250, slowHits: 80, startups: 5, warmup: 100 };
const QUICK: Plan = { rounds: 3, hits: 100, multiRounds: 3, multiHits: 60, slowHits: 30, startups: 3, warmup: 40 };

type Contender = 'padmesh' | 'raw' | 'relay';
/** `bare`: padmesh with the DAW page's UI below its header hidden (a diagnostic, not a contender). */
type MultiContender = 'padmesh' | 'raw' | 'bare';
const SLOW_INTERVAL_MS = 20; // 50 hits/s per controller
const HIDE_DAW_UI = 'main.daw > :not(header) { display: none !important; }';

interface RunStats extends Summary {
  sent: number;
  /** Distinct (peer, seq) that arrived / were played. */
  distinct: number;
  lost: number;
  /** Arrivals beyond the first of a (peer, seq): a hit played twice. */
  duplicates: number;
  /** Hits that did not come the expected way (padmesh: over the relay instead of P2P, or back). */
  otherVia: number;
  /** Main-thread time (Chromium's TaskDuration) over the run, % of its wall time: the DAW page, and the sending pages summed. */
  dawBusy: number;
  senderBusy: number;
}

const sessions = new Map<Page, CDPSession>();
/** Seconds of main-thread tasks a page has run so far (CDP Performance.TaskDuration). */
export async function taskSeconds(page: Page): Promise<number> {
  let session = sessions.get(page);
  if (!session) {
    session = await page.context().newCDPSession(page);
    await session.send('Performance.enable');
    sessions.set(page, session);
  }
  const { metrics } = await session.send('Performance.getMetrics');
  return metrics.find((metric) => metric.name === 'TaskDuration')?.value ?? Number.NaN;
}

/** Runs `work` and adds how busy the DAW's and the senders' main threads were meanwhile (% of its wall time). */
async function withBusy(
  daw: Page,
  senders: Page[],
  work: () => Promise<Omit<RunStats, 'dawBusy' | 'senderBusy'>>,
): Promise<RunStats> {
  const before = await Promise.all([daw, ...senders].map(taskSeconds));
  const started = performance.now();
  const run = await work();
  const wallSeconds = (performance.now() - started) / 1000;
  const after = await Promise.all([daw, ...senders].map(taskSeconds));
  const spent = after.map((value, i) => value - (before[i] as number));
  const [dawSpent = Number.NaN, ...senderSpent] = spent;
  return {
    ...run,
    dawBusy: (100 * dawSpent) / wallSeconds,
    senderBusy: (100 * senderSpent.reduce((a, b) => a + b, 0)) / wallSeconds,
  };
}

const clearRecorder = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { clear(): void } }).padmeshRecorder.clear());
const recorderCount = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { count: number } }).padmeshRecorder.count);

/** Counts what arrived of `sent` hits from `senders` senders: distinct (peer, seq) and repeats. */
function tally(peer: number[], seq: number[], sent: number): { distinct: number; lost: number; duplicates: number } {
  const seen = new Set<string>();
  for (let i = 0; i < seq.length; i++) seen.add(`${peer[i]}:${seq[i]}`);
  return { distinct: seen.size, lost: sent - seen.size, duplicates: seq.length - seen.size };
}

/** padmesh: every phone taps `count` times at 200/s (pad i for phone i); the DAW's recorder says what arrived. */
function padmeshRun(
  daw: Page,
  phones: Page[],
  count: number,
  via: 0 | 1,
  pads = false,
  intervalMs = INTERVAL_MS,
): Promise<RunStats> {
  return withBusy(daw, phones, async () => {
    await clearRecorder(daw);
    await withTimeout(
      Promise.all(phones.map((phone, i) => tapRhythm(phone, { pad: pads ? i : 0, count, intervalMs }))),
      count * intervalMs + 15_000,
      'tapping',
    );
    const sent = count * phones.length;
    await waitUntil(async () => (await recorderCount(daw)) >= sent, 5_000, 20);
    await sleep(300); // a late copy would show up as a second play
    const hits: RecordedHits = await recordedHits(daw);
    const delays = hits.arrivedAt.map((arrived, i) => arrived - (hits.sentAt[i] as number));
    return {
      ...summarize(delays),
      sent,
      ...tally(hits.peer, hits.seq, sent),
      otherVia: hits.via.filter((v) => v !== via).length,
    };
  });
}

/** The raw channel: each sender sends `count` packets at 200/s; the receiver in the DAW page keeps the delays. */
function rawRun(daw: Page, senders: Page[], count: number, intervalMs = INTERVAL_MS): Promise<RunStats> {
  return withBusy(daw, senders, async () => {
    await resetReceiver(daw);
    const sentEach = await withTimeout(
      Promise.all(senders.map((sender) => sendRaw(sender, { count, intervalMs }))),
      count * intervalMs + 15_000,
      'raw sending',
    );
    const sent = sentEach.reduce((a, b) => a + b, 0);
    await waitUntil(async () => (await receivedCount(daw)) >= sent, 5_000, 20);
    await sleep(300);
    const got = await readReceiver(daw);
    return { ...summarize(got.delay), sent, ...tally(got.peer, got.seq, sent), otherVia: 0 };
  });
}

/** Phone init script for (e): a returning player (name remembered), who taps pad 0 the moment P2P is up. */
const STARTUP_SCRIPT = `${NAME_SHIM}
try { localStorage.setItem('padmesh.name', 'Startup'); } catch {}
{
  const marks = {};
  window.__startup = marks;
  const check = () => {
    if (marks.connected === undefined && document.querySelector('[data-testid=status][data-state=connected]')) {
      marks.connected = performance.now();
    }
    if (marks.tapped !== undefined || !document.querySelector('[data-testid=transport][data-transport=p2p]')) return;
    marks.p2p ??= performance.now();
    const pad = document.querySelector('[data-testid=pad][data-pad="0"]');
    if (!pad) return;
    const box = pad.getBoundingClientRect();
    const init = { clientX: box.x + box.width / 2, clientY: box.y + box.height / 2, bubbles: true, cancelable: true,
      pointerType: 'touch', pointerId: 2, isPrimary: true };
    pad.dispatchEvent(new PointerEvent('pointerdown', { ...init, pressure: 0.5 }));
    pad.dispatchEvent(new PointerEvent('pointerup', init));
    marks.tapped = performance.now();
    observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-transport'] });
}`;

interface Startup {
  /** ms after the controller page's navigation start (its performance.timeOrigin). */
  domContentLoaded: number;
  connected: number;
  p2pOpen: number;
  tapped: number;
  firstHitArrived: number;
  via: number;
}

interface Chunk {
  path: string;
  bytes: number;
  gzip: number;
  /** The Content-Encoding the server sent it with ('' for none). */
  encoding: string;
}

/**
 * Keeps every /assets/ file `page` loads, as Chromium got it (dist/client may be rebuilt by
 * someone else meanwhile, so it is not read from disk). `settle()` waits for the bodies.
 */
function recordChunks(page: Page, into: Map<string, Chunk>): () => Promise<void> {
  const reading: Promise<void>[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (!path.startsWith('/assets/') || into.has(path)) return;
    reading.push(
      response
        .body()
        .then((body) => {
          const encoding = response.headers()['content-encoding'] ?? '';
          into.set(path, { path, bytes: body.length, gzip: gzipSync(body).length, encoding });
        })
        .catch(() => {}),
    );
  });
  return async () => {
    await withTimeout(Promise.allSettled(reading), 10_000, 'reading chunks');
  };
}

/** (e): controller pages opened one after another against a fresh DAW, each timed to its first P2P hit. */
async function startups(
  jam: Jam,
  count: number,
): Promise<{ samples: Startup[]; phoneChunks: Chunk[]; dawChunks: Chunk[] }> {
  const dawChunks = new Map<string, Chunk>();
  const phoneChunks = new Map<string, Chunk>();
  const daw = await jam.page(LAPTOP);
  const dawLoaded = recordChunks(daw, dawChunks);
  await daw.goto(`${jam.base}/daw?record=100`);
  const code = await dawReady(daw);
  await shimNames(daw);
  const samples: Startup[] = [];
  try {
    for (let i = 0; i < count; i++) {
      await clearRecorder(daw);
      const phone = await jam.page(PHONE, STARTUP_SCRIPT);
      const phoneLoaded = recordChunks(phone, phoneChunks);
      await phone.goto(`${jam.phoneBase}/join/${code}`);
      const arrived = await waitUntil(async () => (await recorderCount(daw)) >= 1, 10_000, 5);
      if (!arrived) throw new Error('startup: the first hit never reached the DAW');
      const phoneSide = await phone.evaluate(() => {
        const marks = (window as unknown as { __startup: Record<string, number> }).__startup;
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return { origin: performance.timeOrigin, marks, domContentLoaded: nav?.domContentLoadedEventEnd ?? Number.NaN };
      });
      const hits = await recordedHits(daw);
      samples.push({
        domContentLoaded: phoneSide.domContentLoaded,
        connected: phoneSide.marks.connected ?? Number.NaN,
        p2pOpen: phoneSide.marks.p2p ?? Number.NaN,
        tapped: phoneSide.marks.tapped ?? Number.NaN,
        firstHitArrived: (hits.arrivedAt[0] as number) - phoneSide.origin,
        via: hits.via[0] as number,
      });
      await phoneLoaded();
      await phone.context().close();
    }
    await dawLoaded(); // lazy chunks (the QR code) included: by now long loaded
  } finally {
    await daw.context().close();
  }
  const sorted = (map: Map<string, Chunk>) => [...map.values()].sort((a, b) => a.path.localeCompare(b.path));
  return { samples, phoneChunks: sorted(phoneChunks), dawChunks: sorted(dawChunks) };
}

export async function hitPathBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  buildClient(options);
  const started = Date.now();
  const jam = await Jam.launch();
  try {
    await jam.startServer();

    // ── (e) startup and bundles ──
    const startup = await startups(jam, plan.startups);

    // ── (a) the hit path ──
    const { daw, code } = await jam.openDaw('?record=20000');
    await shimNames(daw);
    const isolated = await daw.evaluate(() => crossOriginIsolated);
    const phones: Page[] = [];
    for (let i = 1; i <= PHONES; i++) {
      const phone = await jam.joinPhone(code, NAMES[i - 1] as string);
      await shimNames(phone);
      phones.push(phone);
    }
    const relay = await jam.joinPhone(code, 'Relay', withoutWebRtc);
    await shimNames(relay);
    for (const [i, phone] of phones.entries()) {
      await waitForP2p(phone, WAIT.timeout);
      await memberRow(daw, NAMES[i] as string)
        .and(daw.locator('[data-transport=p2p]'))
        .waitFor(WAIT);
    }
    await installReceiver(daw, 20_000);
    await connectRaw(daw, phones);
    const [one] = phones as [Page];

    // Warm-up (JIT, first packets), discarded.
    await padmeshRun(daw, [one], plan.warmup, 0);
    await rawRun(daw, [one], plan.warmup);
    await padmeshRun(daw, [relay], plan.warmup, 1);

    const single: Record<Contender, RunStats[]> = { padmesh: [], raw: [], relay: [] };
    const order: Contender[] = ['padmesh', 'raw', 'relay'];
    for (let round = 0; round < plan.rounds; round++) {
      // A B C, then B C A, …: no contender always goes first.
      for (let k = 0; k < order.length; k++) {
        const contender = order[(round + k) % order.length] as Contender;
        const run =
          contender === 'padmesh'
            ? await padmeshRun(daw, [one], plan.hits, 0)
            : contender === 'raw'
              ? await rawRun(daw, [one], plan.hits)
              : await padmeshRun(daw, [relay], plan.hits, 1);
        single[contender].push(run);
      }
    }

    const multi: Record<MultiContender, RunStats[]> = { padmesh: [], raw: [], bare: [] };
    const slow: Record<MultiContender, RunStats[]> = { padmesh: [], raw: [], bare: [] };
    const multiRun = async (contender: MultiContender, hits: number, intervalMs: number) => {
      if (contender === 'raw') return rawRun(daw, phones, hits, intervalMs);
      if (contender === 'padmesh') return padmeshRun(daw, phones, hits, 0, true, intervalMs);
      // Diagnostic: the DAW page's lists and pads hidden (no layout or paint for them), to show what they cost.
      // A constructed stylesheet: the page's CSP (no inline styles) refuses a <style> tag.
      const hide = (css: string | null) =>
        daw.evaluate((text) => {
          if (text === null) {
            document.adoptedStyleSheets = [];
            return;
          }
          const sheet = new CSSStyleSheet();
          sheet.replaceSync(text);
          document.adoptedStyleSheets = [sheet];
        }, css);
      await hide(HIDE_DAW_UI);
      try {
        return await padmeshRun(daw, phones, hits, 0, true, intervalMs);
      } finally {
        await hide(null);
      }
    };
    for (let round = 0; round < plan.multiRounds; round++) {
      const two: MultiContender[] = round % 2 === 0 ? ['padmesh', 'raw'] : ['raw', 'padmesh'];
      for (const contender of two) multi[contender].push(await multiRun(contender, plan.multiHits, INTERVAL_MS));
      const three: MultiContender[] = (['padmesh', 'raw', 'bare'] as const).map(
        (_, k, all) => all[(round + k) % all.length] as MultiContender,
      );
      for (const contender of three) slow[contender].push(await multiRun(contender, plan.slowHits, SLOW_INTERVAL_MS));
    }
    await closeRaw([daw, ...phones]);
    const errors = jam.errors.map((error) => error.message);

    const results = {
      plan,
      isolated,
      seconds: (Date.now() - started) / 1000,
      single,
      multi,
      slow,
      startup,
      errors,
    };
    writeResults('hit-path', results);
    return { markdown: render(plan, isolated, single, multi, slow, startup), results };
  } finally {
    await jam.close();
  }
}

function render(
  plan: Plan,
  isolated: boolean,
  single: Record<Contender, RunStats[]>,
  multi: Record<MultiContender, RunStats[]>,
  slow: Record<MultiContender, RunStats[]>,
  startup: Awaited<ReturnType<typeof startups>>,
): string {
  const m = (runs: RunStats[]) => medianOfRounds(runs);
  const s = { padmesh: m(single.padmesh), raw: m(single.raw), relay: m(single.relay) };
  const mm = { padmesh: m(multi.padmesh), raw: m(multi.raw) };
  const sl = { padmesh: m(slow.padmesh), raw: m(slow.raw), bare: m(slow.bare) };
  const sum = (runs: RunStats[], key: 'sent' | 'distinct' | 'lost' | 'duplicates' | 'otherVia') =>
    runs.reduce((total, run) => total + run[key], 0);
  const row = (label: string, stat: Summary, runs: RunStats[], raw: Summary) =>
    `| ${label} | ${stat.n} (${runs.length} × ${runs[0]?.sent ?? 0}) | ${ms(stat.p50)} | ${ms(stat.p99)} | ${ms(stat.max)} | ` +
    `${(stat.p50 / raw.p50).toFixed(2)} | ${(stat.p99 / raw.p99).toFixed(2)} | ${sum(runs, 'lost')} | ${sum(runs, 'duplicates')} | ` +
    `${ms(median(runs.map((run) => run.dawBusy)), 0)} | ${ms(median(runs.map((run) => run.senderBusy)), 0)} |`;

  const { phoneChunks, dawChunks } = startup;
  const encodings = [...new Set([...phoneChunks, ...dawChunks].map((chunk) => chunk.encoding || 'none'))].join(', ');
  const js = (list: Chunk[]) => list.filter((chunk) => chunk.path.endsWith('.js'));
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const phoneJsGzip = js(phoneChunks).reduce((total, chunk) => total + chunk.gzip, 0);
  const dawJsGzip = js(dawChunks).reduce((total, chunk) => total + chunk.gzip, 0);
  const chunkList = (list: Chunk[]) =>
    list
      .map((chunk) => `\`${chunk.path.replace('/assets/', '')}\` ${kb(chunk.bytes)} KB / ${kb(chunk.gzip)} KB gzip`)
      .join(', ');

  const st = startup.samples;
  const startupMedian = (key: keyof Startup) => median(st.map((sample) => sample[key]));
  const firstHit = startupMedian('firstHitArrived');
  const p2pVia = st.filter((sample) => sample.via === 0).length;

  return `## Pad-hit path in the browser (bench/hit-path.ts)

One headless Chromium on loopback, the real signal server and built client: a DAW page
(\`/daw?record=N\`, its hit recorder) and ${PHONES} phone pages joined over P2P, plus one phone
without WebRTC (so its hits take the server's relay). Phones tap with real \`pointerdown\`
events on their pads (tests/helpers/jam.ts \`tapRhythm\`) every ${INTERVAL_MS} ms (200 hits/s), on a
self-correcting schedule. **Raw** is a bare \`RTCDataChannel\` ({ordered: false, maxRetransmits: 0})
set up by the driver between the same phone page and the same DAW page (bench/raw-channel.ts), sending
22-byte packets on the same schedule: same renderer processes, same origins, only the code differs.

Delay = arrival − send, both on this machine's one wall clock (\`performance.timeOrigin + performance.now()\`).
padmesh: stamped in the pad's \`pointerdown\` handler when HitSender takes the hit (after the velocity is
read), so it includes packet building (each packet repeats the 2 previous hits: 50 bytes at this rate),
\`send\`, the network path, the DAW page's decoding and dedup, up to \`DawPeers\` reading its clock (before the
sound is started). Raw: stamped right before \`send\`, read first thing in \`onmessage\`. Neither includes
the event dispatch before the handler nor the audio output. Pages are ${isolated ? 'cross-origin isolated (5 µs timer resolution)' : 'not cross-origin isolated (the server sends no COOP/COEP headers), so `performance.now()` has 0.1 ms resolution (with jitter): sub-0.1 ms differences are noise'}.
Contenders alternate (rotating order) over ${plan.rounds} rounds of ${plan.hits} hits each after a ${plan.warmup}-hit
warm-up; each figure is the median over rounds, n is the total.

**One controller, 200 hits/s**

| path | hits | p50 (ms) | p99 (ms) | max (ms) | p50 / raw | p99 / raw | lost | played twice | DAW busy (%) | senders busy (%) |
|---|---|---|---|---|---|---|---|---|---|---|
${row('padmesh (P2P)', s.padmesh, single.padmesh, s.raw)}
${row('raw data channel', s.raw, single.raw, s.raw)}
${row('padmesh relay (no WebRTC)', s.relay, single.relay, s.raw)}

**${PHONES} controllers × 200 hits/s** (each phone its own pad; ${plan.multiRounds} rounds × ${plan.multiHits} hits per phone, alternating)

| path | hits | p50 (ms) | p99 (ms) | max (ms) | p50 / raw | p99 / raw | lost | played twice | DAW busy (%) | senders busy (%) |
|---|---|---|---|---|---|---|---|---|---|---|
${row('padmesh (P2P)', mm.padmesh, multi.padmesh, mm.raw)}
${row('raw data channel', mm.raw, multi.raw, mm.raw)}

**${PHONES} controllers × 50 hits/s** (${plan.multiRounds} rounds × ${plan.slowHits} hits per phone, rotating order), with a diagnostic:
padmesh again with the DAW page's UI below its header hidden by injected CSS (\`${HIDE_DAW_UI}\`: the
member list, hit log and pads still update, but are not laid out or painted)

| path | hits | p50 (ms) | p99 (ms) | max (ms) | p50 / raw | p99 / raw | lost | played twice | DAW busy (%) | senders busy (%) |
|---|---|---|---|---|---|---|---|---|---|---|
${row('padmesh (P2P)', sl.padmesh, slow.padmesh, sl.raw)}
${row('raw data channel', sl.raw, slow.raw, sl.raw)}
${row('padmesh, DAW UI hidden (diagnostic)', sl.bare, slow.bare, sl.raw)}

"busy": main-thread task time (CDP \`Performance.getMetrics\` TaskDuration) over the run (sending, then
waiting for the last arrivals and 300 ms more), as a share of its wall time: the DAW page, and the sending
pages summed (so up to ${PHONES} × 100 %). Idle pages run timers and frames too (a few %). Every page shares this machine's
${cpus().length} cores: with ${PHONES} phones tapping, the DAW page competes with them for CPU, as it would not with real phones.

padmesh hits that did not arrive over P2P: ${[single.padmesh, multi.padmesh, slow.padmesh, slow.bare].reduce((total, runs) => total + sum(runs, 'otherVia'), 0)}
(of ${[single.padmesh, multi.padmesh, slow.padmesh, slow.bare].reduce((total, runs) => total + sum(runs, 'sent'), 0)}).

Targets (issue 4 a):
- padmesh p50 ≤ ${P50_RATIO} × raw p50: ${verdict(s.padmesh.p50, P50_RATIO * s.raw.p50)}.
- padmesh p99 ≤ ${P99_RATIO} × raw p99: ${verdict(s.padmesh.p99, P99_RATIO * s.raw.p99)}.
- ${PHONES} × 200/s, no hit lost: ${sum(multi.padmesh, 'lost') === 0 ? 'met' : `**missed** (${sum(multi.padmesh, 'lost')} of ${sum(multi.padmesh, 'sent')} lost)`}; ${sum(multi.padmesh, 'duplicates')} played twice.
- ${PHONES} × 200/s, p50 still ≈ raw (read as ≤ ${P50_RATIO} × raw): ${verdict(mm.padmesh.p50, P50_RATIO * mm.raw.p50)}.

**Controller page open → first hit over P2P** (${st.length} page loads, fresh browser context each, a returning
player whose name is remembered; an init script taps pad 0 the moment the page shows P2P). Medians, ms after
the page's navigation start:

| DOMContentLoaded | signaling joined | P2P open (phone) | tap | first hit at the DAW |
|---|---|---|---|---|
| ${ms(startupMedian('domContentLoaded'), 0)} | ${ms(startupMedian('connected'), 0)} | ${ms(startupMedian('p2pOpen'), 0)} | ${ms(startupMedian('tapped'), 0)} | ${ms(firstHit, 0)} |

All samples (first hit, ms): ${st.map((sample) => ms(sample.firstHitArrived, 0)).join(', ')}; ${p2pVia} of ${st.length} first hits came over P2P.
Target ≤ ${FIRST_HIT_MS} ms on loopback: ${verdict(firstHit, FIRST_HIT_MS, 'ms', 0)}.

**Bundles**: the /assets/ files Chromium loaded for each page (as the server sent them, from dist/client),
each gzipped alone at zlib's default level. Content-Encoding the server sent them with: ${encodings}.
- controller (\`/join/…\`, until its first hit): ${chunkList(phoneChunks)}; JS ${kb(phoneJsGzip)} KB gzip.
  Target ≤ ${CONTROLLER_GZIP_KB} KB gzip: ${verdict(phoneJsGzip / 1024, CONTROLLER_GZIP_KB, 'KB', 1)}.
- DAW (\`/daw\`): ${chunkList(dawChunks)}; JS ${kb(dawJsGzip)} KB gzip.
`;
}

if (isMain(import.meta.url)) await runAlone('hit-path', hitPathBenchmark);
