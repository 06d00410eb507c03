/**
 * Issue 4 (a) and (e), in headless Chromium on loopback:
 *
 *  (a) one-way delivery of pad hits at 200/s through padmesh's own pages (a phone tapping
 *      its real pads, the DAW page's recorder), beside a bare RTCDataChannel between the same
 *      pages (bench/raw-channel.ts) and beside the signal server's relay (a phone without
 *      WebRTC), alternating in one browser and one run; then 8 controllers at 200/s each, padmesh
 *      beside 8 raw channels, counting lost and doubled hits: first with the controllers in Node
 *      (bench/node-phones.ts: padmesh's own controller code on node-datachannel, so the DAW page
 *      is the only browser page busy: issue 10), then as 8 phone pages.
 *  (e) a controller page opened → its first hit delivered over P2P, step by step (socket,
 *      welcome, offer, answer, ICE, DTLS, channel, hit; read off both pages' WebRTC objects);
 *      which chunks the /join and /daw pages load (recorded in Chromium) and their gzip sizes.
 *      Each build is served by a signal server in a process of its own (bench/servers/padmesh-app.ts),
 *      as `npm start` runs it. With PADMESH_STARTUP_BASELINE=<a dist/client folder> (another build of
 *      the app), a second server serves that build and its page loads take turns with this build's.
 *
 * Needs a loopback-only network namespace. Alone: `npx tsx bench/hit-path.ts [--quick] [--no-build]
 * [--startup-only N] [--single-only N]` (re-runs itself in one; --startup-only: only (e), N page loads per build, printed
 * as its table; with it, --startup-trace: each load of this build traced (CDP Tracing), both pages' main threads printed
 * as a timeline of top-level tasks, with what took the time in each, beside the steps' marks (PADMESH_TRACE_FILE=<file>
 * also keeps the last raw trace), or --startup-profile: both pages' JavaScript by function for each load of this
 * build; --single-only: only (a)'s one controller beside raw, N rounds, and with the DAW's UI hidden, or what
 * PADMESH_HIDE_CSS hides; with it, --profile: both pages' functions by self time during a run, and --trace: each
 * page's main thread by trace event, idle and under hits, beside raw); from bench/run.ts: `hitPathBenchmark({ quick })`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CDPSession, Page, Response } from 'playwright-core';
import type { RecordedHits } from '../client/state/hit-recorder.ts';
import { inlineScripts } from '../signal/static.ts';
import { LAPTOP, PHONE } from '../tests/helpers/browser.ts';
import {
  DIST,
  dawReady,
  Jam,
  memberRow,
  PHONE_HOST,
  recordedHits,
  tapRhythm,
  waitForP2p,
  withoutWebRtc,
} from '../tests/helpers/jam.ts';
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
import { printSummaries, traceMainThreads, traceTimeline } from './main-thread-trace.ts';
import { joinNodePhones, type NodePhone, NodeRawSender, tapSchedule } from './node-phones.ts';
import {
  answer,
  closeRaw,
  connectRaw,
  installReceiver,
  readReceiver,
  receivedCount,
  resetReceiver,
  sendRaw,
} from './raw-channel.ts';
import { spawnServer, stopServer } from './servers/spawn.ts';
import { median } from './stats.ts';

const INTERVAL_MS = 5; // 200 hits/s
const PHONES = 8;
/** Player names no other text on the DAW page contains. */
const NAMES = ['Anya', 'Bruno', 'Cleo', 'Dmitri', 'Esme', 'Farid', 'Greta', 'Hugo'];
/** The controllers in Node (none of these names contains another of either list). */
const NODE_NAMES = ['Ivo', 'Jana', 'Kofi', 'Lina', 'Milo', 'Nora', 'Otto', 'Pia'];
const WAIT = { timeout: 15_000 };
/** Issue 10's target for 8 controllers (in Node) × 200/s: p50 ≤ this × raw's. */
const NODE_P50_RATIO = 2;
/** Targets of issue 4. */
const P50_RATIO = 1.1;
const P99_RATIO = 1.25;
const FIRST_HIT_MS = 300;
/** Issue 10: the DAW page's busy share at one phone × 200/s ≤ this × the raw page's. */
const BUSY_RATIO = 1.5;
const CONTROLLER_GZIP_KB = 35;

interface Plan {
  /** One controller: rounds × hits per contender per round. */
  rounds: number;
  hits: number;
  /** 8 controllers at 200/s, then at 50/s: rounds × hits per controller per round. */
  multiRounds: number;
  multiHits: number;
  slowHits: number;
  /** 8 controllers in Node (bench/node-phones.ts) at 200/s: rounds × hits per controller per round. */
  nodeRounds: number;
  nodeHits: number;
  /** Controller page loads timed to the first P2P hit. */
  startups: number;
  warmup: number;
}

const FULL: Plan = {
  rounds: 4,
  hits: 500,
  multiRounds: 3,
  multiHits: 250,
  slowHits: 80,
  nodeRounds: 4,
  nodeHits: 400,
  startups: 8,
  warmup: 100,
};
const QUICK: Plan = {
  rounds: 3,
  hits: 100,
  multiRounds: 3,
  multiHits: 60,
  slowHits: 30,
  nodeRounds: 3,
  nodeHits: 100,
  startups: 3,
  warmup: 40,
};

type Contender = 'padmesh' | 'raw' | 'relay';
/** `bare`: padmesh with the DAW page's UI below its header hidden (a diagnostic, not a contender). */
type MultiContender = 'padmesh' | 'raw' | 'bare';
const SLOW_INTERVAL_MS = 20; // 50 hits/s per controller
/** What `--single-only`'s diagnostic run hides of the DAW page (PADMESH_HIDE_CSS: other CSS, to find what costs). */
const HIDE_DAW_UI = process.env.PADMESH_HIDE_CSS ?? 'main.daw > :not(header) { display: none !important; }';

interface RunStats extends Summary {
  sent: number;
  /** Distinct (peer, seq) that arrived / were played. */
  distinct: number;
  lost: number;
  /** Arrivals beyond the first of a (peer, seq): a hit played twice. */
  duplicates: number;
  /** Hits that did not come the expected way (padmesh: over the relay instead of P2P, or back). */
  otherVia: number;
  /**
   * Main-thread time (Chromium's TaskDuration) over the run, % of its wall time: the DAW page, and the
   * sending pages summed (or, for senders in Node, this process's CPU time: all its threads).
   */
  dawBusy: number;
  senderBusy: number;
  /** padmesh: the p50 of arrival − tap time through the DAW's clock sync (its estimate of each sender's clock). */
  syncedP50: number;
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

/** Seconds of main-thread work by kind (CDP Performance metrics). */
async function pageMetrics(page: Page): Promise<Record<string, number>> {
  await taskSeconds(page);
  const { metrics } = await (sessions.get(page) as CDPSession).send('Performance.getMetrics');
  const keep = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskOtherDuration'];
  return Object.fromEntries(metrics.filter((m) => keep.includes(m.name)).map((m) => [m.name, m.value]));
}

/** CPU seconds (user + system, every thread) this Node process has used so far. */
function processSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Runs `work` and adds how busy the DAW's and the senders' main threads were meanwhile (% of its
 * wall time). `senders` 'node': the senders are this process (bench/node-phones.ts).
 */
async function withBusy(
  daw: Page,
  senders: Page[] | 'node',
  work: () => Promise<Omit<RunStats, 'dawBusy' | 'senderBusy' | 'syncedP50'> & { syncedP50?: number }>,
): Promise<RunStats> {
  const pages = senders === 'node' ? [] : senders;
  const before = await Promise.all([daw, ...pages].map(taskSeconds));
  const cpuBefore = processSeconds();
  const started = performance.now();
  const run = await work();
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSpent = processSeconds() - cpuBefore;
  const after = await Promise.all([daw, ...pages].map(taskSeconds));
  const spent = after.map((value, i) => value - (before[i] as number));
  const [dawSpent = Number.NaN, ...senderSpent] = spent;
  return {
    syncedP50: Number.NaN,
    ...run,
    dawBusy: (100 * dawSpent) / wallSeconds,
    senderBusy: (100 * (senders === 'node' ? cpuSpent : senderSpent.reduce((a, b) => a + b, 0))) / wallSeconds,
  };
}

const clearRecorder = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { clear(): void } }).padmeshRecorder.clear());
const recorderCount = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { count: number } }).padmeshRecorder.count);

const dawBusyMedian = (runs: RunStats[]) => median(runs.map((run) => run.dawBusy));

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
    return recordedRun(daw, sent, via);
  });
}

/** What the DAW's recorder holds of `sent` hits that should have come `via`. */
async function recordedRun(daw: Page, sent: number, via: 0 | 1) {
  const hits: RecordedHits = await recordedHits(daw);
  const delays = hits.arrivedAt.map((arrived, i) => arrived - (hits.sentAt[i] as number));
  const synced = hits.arrivedAt.map((arrived, i) => arrived - (hits.tapAt[i] as number)).filter(Number.isFinite);
  return {
    ...summarize(delays),
    sent,
    ...tally(hits.peer, hits.seq, sent),
    otherVia: hits.via.filter((v) => v !== via).length,
    syncedP50: summarize(synced).p50,
  };
}

/** padmesh with controllers in Node: each taps `count` times at 200/s (pad i for phone i), out of step. */
function nodePadmeshRun(daw: Page, phones: NodePhone[], count: number): Promise<RunStats> {
  return withBusy(daw, 'node', async () => {
    await clearRecorder(daw);
    const sent = await withTimeout(
      tapSchedule(phones.length, count, INTERVAL_MS, (i, _n) => phones[i]?.tap(i)),
      count * INTERVAL_MS + 15_000,
      'Node tapping',
    );
    await waitUntil(async () => (await recorderCount(daw)) >= sent, 5_000, 20);
    await sleep(300); // a late copy would show up as a second play
    return recordedRun(daw, sent, 0);
  });
}

/** The raw channel with senders in Node, on the same schedule as nodePadmeshRun. */
function nodeRawRun(daw: Page, senders: NodeRawSender[], count: number): Promise<RunStats> {
  return withBusy(daw, 'node', async () => {
    await resetReceiver(daw);
    const sent = await withTimeout(
      tapSchedule(senders.length, count, INTERVAL_MS, (i, n) => senders[i]?.send(n)),
      count * INTERVAL_MS + 15_000,
      'Node raw sending',
    );
    await waitUntil(async () => (await receivedCount(daw)) >= sent, 5_000, 20);
    await sleep(300);
    const got = await readReceiver(daw);
    const closed = senders.filter((sender) => !sender.open).length;
    if (closed > 0)
      console.warn(`Node raw senders: ${closed} channel(s) closed during the run (their hits count as lost)`);
    return { ...summarize(got.delay), sent, ...tally(got.peer, got.seq, sent), otherVia: 0 };
  });
}

/** Connects each Node raw sender to the DAW page's raw receiver as its peer i. */
async function connectNodeRaw(daw: Page, count: number): Promise<NodeRawSender[]> {
  const senders: NodeRawSender[] = [];
  for (let index = 0; index < count; index++) {
    const sender = new NodeRawSender();
    senders.push(sender);
    await sender.answered(await answer(daw, index, await sender.offer()));
    await daw.waitForFunction(
      (index) => (window as unknown as { __rawRx?: { open: boolean[] } }).__rawRx?.open[index] === true,
      index,
      { timeout: 10_000 },
    );
  }
  return senders;
}

/**
 * 8 controllers in Node beside 8 raw channels from Node, alternating, into the same DAW page
 * (before any phone page exists, so nothing else on this machine is busy): the DAW's cost, not the phones'.
 */
async function nodeTables(
  daw: Page,
  code: string,
  base: string,
  plan: Plan,
): Promise<Record<'padmesh' | 'raw', RunStats[]>> {
  const runs: Record<'padmesh' | 'raw', RunStats[]> = { padmesh: [], raw: [] };
  const phones = await joinNodePhones(base, code, NODE_NAMES);
  let senders: NodeRawSender[] = [];
  try {
    for (const name of NODE_NAMES) await memberRow(daw, name).and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
    await installReceiver(daw, 20_000);
    senders = await connectNodeRaw(daw, phones.length);
    // Warm-up (JIT, first packets, the DAW's clock sync of each phone), discarded.
    await nodePadmeshRun(daw, phones, plan.warmup);
    await nodeRawRun(daw, senders, plan.warmup);
    for (let round = 0; round < plan.nodeRounds; round++) {
      const two = round % 2 === 0 ? (['padmesh', 'raw'] as const) : (['raw', 'padmesh'] as const);
      for (const contender of two) {
        runs[contender].push(
          contender === 'padmesh'
            ? await nodePadmeshRun(daw, phones, plan.nodeHits)
            : await nodeRawRun(daw, senders, plan.nodeHits),
        );
      }
    }
  } finally {
    for (const sender of senders) sender.close();
    await closeRaw([daw]);
    for (const phone of phones) phone.leave();
  }
  return runs;
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

/**
 * Phone init script for (e): a returning player (a name remembered, and the browser's id from its earlier
 * visit: each load is a fresh browser context, so both are put there), who taps pad 0 the moment P2P is up.
 */
const STARTUP_SCRIPT = `${NAME_SHIM}
try {
  localStorage.setItem('padmesh.name', 'Startup');
  localStorage.setItem('padmesh.deviceId', 'startup-' + Math.random().toString(36).slice(2));
} catch {}
{
  const marks = {};
  window.__startup = marks;
  const check = () => {
    if (marks.tapped !== undefined || !document.querySelector('[data-testid=transport][data-transport=p2p]')) return;
    if (marks.p2p === undefined) console.timeStamp('phone.p2p');
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

/**
 * Init script for both pages of (e): the wall-clock time (ms since the epoch) of the first of
 * each step of the way to P2P, read off the browser's own WebSocket and RTCPeerConnection
 * (wrapped, so the product needs no hooks): the socket made, open, the welcome; the first
 * connection made, its first local candidate, its local and remote descriptions set, the first
 * `signal` in, ICE connected, DTLS connected (connectionState), the data channel open.
 * `__netMarksClear()` starts over (the DAW page serves one phone after another).
 */
const NET_MARKS_SCRIPT = `{
  const marks = {};
  window.__netMarks = marks;
  window.__netMarksClear = () => { for (const key of Object.keys(marks)) delete marks[key]; };
  // console.timeStamp: the same marks in a trace (--startup-trace), by page; no cost when not tracing.
  const side = location.pathname.startsWith('/daw') ? 'daw' : 'phone';
  console.timeStamp(side + '.init@' + performance.now());
  const mark = (name) => {
    if (name in marks) return;
    marks[name] = performance.timeOrigin + performance.now();
    console.timeStamp(side + '.' + name);
  };
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      mark('socket');
      this.addEventListener('open', () => mark('socketOpen'));
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        if (event.data.startsWith('{"type":"welcome"')) mark('welcome');
        else if (event.data.startsWith('{"type":"signal"')) mark('signalIn');
      });
    }
    send(data) {
      if (typeof data === 'string') {
        if (data.startsWith('{"type":"join"')) mark('joinOut');
        else if (data.startsWith('{"type":"signal"')) mark('signalOut');
      }
      return super.send(data);
    }
  };
  const NativePc = window.RTCPeerConnection;
  if (NativePc) window.RTCPeerConnection = class extends NativePc {
    constructor(...args) {
      super(...args);
      mark('pc');
      this.addEventListener('icecandidate', (event) => { if (event.candidate) mark('candidate'); });
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') mark('ice');
      });
      this.addEventListener('connectionstatechange', () => { if (this.connectionState === 'connected') mark('dtls'); });
      this.addEventListener('datachannel', (event) => event.channel.addEventListener('open', () => mark('channel')));
    }
    createDataChannel(...args) {
      const channel = super.createDataChannel(...args);
      channel.addEventListener('open', () => mark('channel'));
      return channel;
    }
    async setLocalDescription(...args) {
      const result = await super.setLocalDescription(...args);
      mark('localSdp');
      return result;
    }
    setRemoteDescription(...args) {
      mark('remoteSdp');
      return super.setRemoteDescription(...args);
    }
  };
}`;

/** The steps of (e) in the order they happen: key (page.mark), and what it is. */
const STARTUP_STEPS = [
  ['phone.html', 'phone: HTML loaded'],
  ['phone.script', "phone: the app's entry chunk loaded"],
  ['phone.domContentLoaded', 'phone: DOMContentLoaded (the app has run and rendered)'],
  ['phone.socket', 'phone: signaling socket made'],
  ['phone.socketOpen', 'phone: socket open'],
  ['phone.joinOut', 'phone: join sent'],
  ['phone.welcome', 'phone: welcome in (signaling joined)'],
  ['phone.pc', 'phone: RTCPeerConnection made'],
  ['phone.localSdp', 'phone: offer set (setLocalDescription done)'],
  ['phone.signalOut', 'phone: offer sent'],
  ['phone.candidate', 'phone: first ICE candidate'],
  ['daw.signalIn', 'DAW: offer in'],
  // Not the RTCPeerConnection's making: the DAW makes a spare before the offer comes (client/net/spare-connection.ts).
  ['daw.remoteSdp', 'DAW: offer given to its RTCPeerConnection'],
  ['daw.localSdp', 'DAW: answer set'],
  ['daw.signalOut', 'DAW: answer sent'],
  ['phone.signalIn', 'phone: answer in'],
  ['phone.ice', 'phone: ICE connected'],
  ['daw.ice', 'DAW: ICE connected'],
  ['daw.dtls', 'DAW: DTLS connected'],
  ['phone.dtls', 'phone: DTLS connected'],
  ['phone.channel', 'phone: data channel open'],
  ['daw.channel', 'DAW: data channel open'],
  ['phone.p2p', 'phone: page shows P2P'],
  ['phone.tapped', 'phone: tap'],
  ['daw.firstHit', 'DAW: first hit arrived'],
] as const;
type StartupStep = (typeof STARTUP_STEPS)[number][0];

/** One page load of (e): each step's time, ms after the phone page's navigation start (its timeOrigin). */
interface Startup {
  steps: Partial<Record<StartupStep, number>>;
  firstHitArrived: number;
  via: number;
}

interface Chunk {
  path: string;
  bytes: number;
  gzip: number;
  /** The Content-Encoding the server sent it with ('' for none). */
  encoding: string;
  /** JavaScript (a .js file, or the page's inline script: scripts/inline-script.ts). */
  js: boolean;
}

/** The pseudo-chunk for the inline script(s) of a page's HTML. */
const INLINE_SCRIPT = 'inline <script> of the HTML';

/**
 * Keeps every /assets/ file `page` loads, as Chromium got it (dist/client may be rebuilt by
 * someone else meanwhile, so it is not read from disk). `settle()` reads and gzips the bodies:
 * only then, so that none of it (CDP calls into the browser, gzip in this process, which is
 * also the signal server) falls inside the page load being timed.
 */
function recordChunks(page: Page, into: Map<string, Chunk>): () => Promise<void> {
  const responses = new Map<string, Response>();
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/assets/') && !into.has(path)) responses.set(path, response);
    // The page itself: JavaScript inlined into it counts with the chunks.
    else if (response.request().resourceType() === 'document' && !into.has(INLINE_SCRIPT)) {
      responses.set(INLINE_SCRIPT, response);
    }
  });
  return async () => {
    const bodies = await withTimeout(
      Promise.all(
        [...responses].map(async ([path, response]) => ({
          path,
          body: await response.body().catch(() => null),
          encoding: response.headers()['content-encoding'] ?? '',
        })),
      ),
      10_000,
      'reading chunks',
    );
    for (const { path, body, encoding } of bodies) {
      if (!body) continue;
      if (path === INLINE_SCRIPT) {
        const script = Buffer.from(inlineScripts(body.toString('utf8')).join(''));
        if (script.length === 0) continue;
        into.set(path, { path, bytes: script.length, gzip: gzipSync(script).length, encoding, js: true });
      } else
        into.set(path, { path, bytes: body.length, gzip: gzipSync(body).length, encoding, js: path.endsWith('.js') });
    }
  };
}

/** A build of the app to time (e) against: its server's bases for the DAW and for phones. */
interface StartupTarget {
  label: string;
  base: string;
  phoneBase: string;
}

/**
 * Resolves once the DAW's recorder takes its first hit (true), or after `timeoutMs` (false). One
 * call that waits inside the page, not a poll: each poll would be a task in the DAW page and a
 * round trip through this process (which is also the signal server), in the middle of the startup
 * being timed. The recorder keeps the hit's arrival time either way.
 */
const firstRecorded = (daw: Page, timeoutMs: number): Promise<boolean> =>
  daw.evaluate(
    (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        type Recorder = { count: number; record(...args: unknown[]): void };
        const recorder = (window as unknown as { padmeshRecorder: Recorder }).padmeshRecorder;
        if (recorder.count >= 1) return resolve(true);
        const record = recorder.record;
        const done = (arrived: boolean) => {
          recorder.record = record;
          clearTimeout(timer);
          resolve(arrived);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        recorder.record = function (this: Recorder, ...args: unknown[]) {
          record.apply(this, args);
          done(true);
        };
      }),
    timeoutMs,
  );

const readMarks = (page: Page) =>
  page.evaluate(() => ({
    origin: performance.timeOrigin,
    marks: (window as unknown as { __netMarks?: Record<string, number> }).__netMarks ?? {},
  }));

/**
 * (e): controller pages opened one after another, each against its target's DAW and timed to
 * its first P2P hit; with several targets (this build and a baseline build), they take turns.
 * Chunks are recorded for the first target only.
 */
async function startups(
  jam: Jam,
  count: number,
  targets: StartupTarget[],
  trace = false,
  profile = false,
): Promise<{ samples: Record<string, Startup[]>; phoneChunks: Chunk[]; dawChunks: Chunk[] }> {
  const dawChunks = new Map<string, Chunk>();
  const phoneChunks = new Map<string, Chunk>();
  const daws: { daw: Page; code: string; loaded: () => Promise<void> }[] = [];
  const samples: Record<string, Startup[]> = {};
  try {
    for (const [t, target] of targets.entries()) {
      const daw = await jam.page(LAPTOP, NET_MARKS_SCRIPT);
      const loaded = t === 0 ? recordChunks(daw, dawChunks) : async () => {};
      await daw.goto(`${target.base}/daw?record=100`);
      const code = await dawReady(daw);
      await shimNames(daw);
      daws.push({ daw, code, loaded });
      samples[target.label] = [];
    }
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < targets.length; k++) {
        const t = (i + k) % targets.length; // rotating: no target always goes first
        const target = targets[t] as StartupTarget;
        const { daw, code } = daws[t] as (typeof daws)[number];
        await clearRecorder(daw);
        await daw.evaluate(() => (window as unknown as { __netMarksClear(): void }).__netMarksClear());
        const phone = await jam.page(PHONE, `${STARTUP_SCRIPT}\n${NET_MARKS_SCRIPT}`);
        const phoneLoaded = t === 0 ? recordChunks(phone, phoneChunks) : async () => {};
        const firstHit = firstRecorded(daw, 10_000);
        let arrived = false;
        const load = async () => {
          await phone.goto(`${target.phoneBase}/join/${code}`);
          arrived = await firstHit;
        };
        if (profile && t === 0) {
          const sessions = await Promise.all([phone, daw].map((page) => page.context().newCDPSession(page)));
          for (const session of sessions) {
            await session.send('Profiler.enable');
            await session.send('Profiler.setSamplingInterval', { interval: 100 });
            await session.send('Profiler.start');
          }
          await load();
          for (const [k, session] of sessions.entries()) {
            const { profile: taken } = await session.send('Profiler.stop');
            printStartupProfile(k === 0 ? 'phone' : 'DAW', taken);
            await session.detach();
          }
        } else if (trace && t === 0) {
          console.log(`── startup trace, load ${i + 1} of ${target.label} ──`);
          await traceTimeline(jam.browser, daw, ['phone', 'daw'], load, (markTs) => {
            for (const [text, ts] of markTs)
              if (text.startsWith('phone.init@')) return ts - Number(text.slice(11)) * 1000;
            return 0;
          });
        } else await load();
        if (!arrived) throw new Error(`startup (${target.label}): the first hit never reached the DAW`);
        const phoneSide = await phone.evaluate(() => {
          const marks = (window as unknown as { __startup: Record<string, number> }).__startup;
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
          // The app's entry chunk (the first script from /assets/): loaded, then compiled, run and rendered.
          const script = performance
            .getEntriesByType('resource')
            .find((entry) => /\/assets\/index-[^/]*\.js$/.test(entry.name)) as PerformanceResourceTiming | undefined;
          return {
            marks,
            html: nav?.responseEnd ?? Number.NaN,
            script: script?.responseEnd ?? Number.NaN,
            domContentLoaded: nav?.domContentLoadedEventEnd ?? Number.NaN,
          };
        });
        const phoneNet = await readMarks(phone);
        const dawNet = await readMarks(daw);
        const hits = await recordedHits(daw);
        const origin = phoneNet.origin;
        const firstHitArrived = (hits.arrivedAt[0] as number) - origin;
        const steps: Startup['steps'] = {
          'phone.html': phoneSide.html,
          'phone.script': phoneSide.script,
          'phone.domContentLoaded': phoneSide.domContentLoaded,
          'phone.p2p': phoneSide.marks.p2p ?? Number.NaN,
          'phone.tapped': phoneSide.marks.tapped ?? Number.NaN,
          'daw.firstHit': firstHitArrived,
        };
        for (const [side, net] of [
          ['phone', phoneNet],
          ['daw', dawNet],
        ] as const) {
          for (const [name, at] of Object.entries(net.marks)) {
            steps[`${side}.${name}` as StartupStep] = at - origin;
          }
        }
        samples[target.label]?.push({ steps, firstHitArrived, via: hits.via[0] as number });
        await phoneLoaded();
        await phone.context().close();
      }
    }
    for (const { loaded } of daws) await loaded(); // lazy chunks (the QR code) included: by now long loaded
  } finally {
    for (const { daw } of daws) await daw.context().close();
  }
  const sorted = (map: Map<string, Chunk>) => [...map.values()].sort((a, b) => a.path.localeCompare(b.path));
  return { samples, phoneChunks: sorted(phoneChunks), dawChunks: sorted(dawChunks) };
}

export async function hitPathBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  buildClient(options);
  const started = Date.now();
  const jam = await Jam.launch();
  /** A second build of the app (a dist/client folder) to time startup against, served by a second server. */
  const baselineDir = process.env.PADMESH_STARTUP_BASELINE;
  const appServers: ChildProcess[] = [];
  try {
    await jam.startServer();

    // ── (e) startup and bundles ──
    // Each build served by a server process of its own, as `npm start` runs it: in this process its
    // answers would wait behind Playwright's traffic with the very pages being timed.
    const targets: StartupTarget[] = [];
    for (const [label, staticDir] of [
      ['this build', DIST],
      ...(baselineDir ? [['baseline build', baselineDir]] : []),
    ] as [string, string][]) {
      const { child, port } = await spawnServer('padmesh-app.ts', {
        PADMESH_STATIC_DIR: staticDir,
        PADMESH_SECRET: `bench-startup-secret-${process.pid}-${targets.length}-0123456789`,
        PADMESH_PHONE_HOST: PHONE_HOST,
      });
      appServers.push(child);
      targets.push({ label, base: `http://127.0.0.1:${port}`, phoneBase: `http://${PHONE_HOST}:${port}` });
    }
    const startupOnly = process.argv.indexOf('--startup-only');
    if (startupOnly >= 0) {
      const only = await startups(
        jam,
        Number(process.argv[startupOnly + 1] ?? plan.startups),
        targets,
        process.argv.includes('--startup-trace'),
        process.argv.includes('--startup-profile'),
      );
      writeResults('hit-path-startup', only);
      return { markdown: renderStartup(only), results: only };
    }
    const singleOnly = process.argv.indexOf('--single-only');
    if (singleOnly >= 0) return await singleOnlyRun(jam, Number(process.argv[singleOnly + 1] ?? plan.rounds), plan);
    const startup = await startups(jam, plan.startups, targets);

    // ── (a) the hit path ──
    const { daw, code } = await jam.openDaw('?record=20000');
    await shimNames(daw);
    const isolated = await daw.evaluate(() => crossOriginIsolated);
    const node = await nodeTables(daw, code, jam.base, plan);
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
      node,
      startup,
      errors,
    };
    writeResults('hit-path', results);
    return { markdown: render(plan, isolated, single, multi, slow, node, startup), results };
  } finally {
    for (const child of appServers) await stopServer(child);
    await jam.close();
  }
}

function render(
  plan: Plan,
  isolated: boolean,
  single: Record<Contender, RunStats[]>,
  multi: Record<MultiContender, RunStats[]>,
  slow: Record<MultiContender, RunStats[]>,
  node: Record<'padmesh' | 'raw', RunStats[]>,
  startup: Awaited<ReturnType<typeof startups>>,
): string {
  const m = (runs: RunStats[]) => medianOfRounds(runs);
  const s = { padmesh: m(single.padmesh), raw: m(single.raw), relay: m(single.relay) };
  const mm = { padmesh: m(multi.padmesh), raw: m(multi.raw) };
  const sl = { padmesh: m(slow.padmesh), raw: m(slow.raw), bare: m(slow.bare) };
  const nd = { padmesh: m(node.padmesh), raw: m(node.raw) };
  const sum = (runs: RunStats[], key: 'sent' | 'distinct' | 'lost' | 'duplicates' | 'otherVia') =>
    runs.reduce((total, run) => total + run[key], 0);
  const nodeLost = sum(node.padmesh, 'lost');
  const row = (label: string, stat: Summary, runs: RunStats[], raw: Summary) =>
    `| ${label} | ${stat.n} (${runs.length} × ${runs[0]?.sent ?? 0}) | ${ms(stat.p50)} | ${ms(stat.p99)} | ${ms(stat.max)} | ` +
    `${(stat.p50 / raw.p50).toFixed(2)} | ${(stat.p99 / raw.p99).toFixed(2)} | ${sum(runs, 'lost')} | ${sum(runs, 'duplicates')} | ` +
    `${ms(median(runs.map((run) => run.dawBusy)), 0)} | ${ms(median(runs.map((run) => run.senderBusy)), 0)} |`;

  const { phoneChunks, dawChunks } = startup;
  const encodings = [...new Set([...phoneChunks, ...dawChunks].map((chunk) => chunk.encoding || 'none'))].join(', ');
  const js = (list: Chunk[]) => list.filter((chunk) => chunk.js);
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const phoneJsGzip = js(phoneChunks).reduce((total, chunk) => total + chunk.gzip, 0);
  const dawJsGzip = js(dawChunks).reduce((total, chunk) => total + chunk.gzip, 0);
  const chunkList = (list: Chunk[]) =>
    list
      .map((chunk) => `\`${chunk.path.replace('/assets/', '')}\` ${kb(chunk.bytes)} KB / ${kb(chunk.gzip)} KB gzip`)
      .join(', ');

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

**${PHONES} controllers × 200 hits/s, the controllers in Node** (bench/node-phones.ts; each its own pad; ${plan.nodeRounds} rounds × ${plan.nodeHits} hits per controller, alternating)

Issue 10: with ${PHONES} phone pages on this ${cpus().length}-core machine (the next table) the benchmark measured the
machine, not the DAW. Here no phone page runs: ${PHONES} of padmesh's own controllers run in this Node process, each the
real signaling client (client/net/signaling.ts, with \`ws\`) joined through the signal server as a controller, and
the real ControllerLink (link machine, PeerChannel on simple-peer, HitSender with its two repeats per hit, the peer
wire of client/net/hits.ts), on node-datachannel (libdatachannel, bound to 127.0.0.1): the same packets the phone
page sends, into the same DAW page, before any phone page is opened. Raw: ${PHONES} bare data channels from this
process (node-datachannel too) into the DAW page's raw receiver, 22-byte packets. Each controller taps every
${INTERVAL_MS} ms on its own self-correcting timer, the ${PHONES} schedules spread evenly over the ${INTERVAL_MS} ms (players are not in lockstep).
Delay: arrival (DAW page) − tap (Node), one wall clock (both processes read this machine's realtime clock
through a monotonic one); "clock p50" is padmesh's own view, arrival − tap time through the DAW's clock sync of each
controller (client/net/clock-sync.ts), which agrees when the sync is good. "senders busy" here is this Node process's
CPU (every thread: libdatachannel's too, and the idle signal server and browser driver), % of one core.

| path | hits | p50 (ms) | p99 (ms) | max (ms) | p50 / raw | p99 / raw | lost | played twice | DAW busy (%) | senders busy (%) |
|---|---|---|---|---|---|---|---|---|---|---|
${row('padmesh (P2P), Node controllers', nd.padmesh, node.padmesh, nd.raw)}
${row('raw data channel, Node senders', nd.raw, node.raw, nd.raw)}

padmesh's clock p50 (through the DAW's clock sync): ${ms(median(node.padmesh.map((run) => run.syncedP50)))} ms. Targets (issue 10):
- ${PHONES} × 200/s, p50 ≤ ${NODE_P50_RATIO} × raw p50: ${verdict(nd.padmesh.p50, NODE_P50_RATIO * nd.raw.p50)}.
- ${PHONES} × 200/s, no hit lost: ${nodeLost === 0 ? 'met' : `**missed** (${nodeLost} of ${sum(node.padmesh, 'sent')} lost)`}; ${sum(node.padmesh, 'duplicates')} played twice, ${sum(node.padmesh, 'otherVia')} not over P2P.

**${PHONES} phone pages × 200 hits/s** (each phone its own pad; ${plan.multiRounds} rounds × ${plan.multiHits} hits per phone, alternating).
The ${PHONES} phone pages run on this machine beside the DAW page: this measures the machine more than the DAW (see the table above).

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

Target (issue 10), one phone × 200/s: the DAW page's main thread busy ≤ ${BUSY_RATIO} × the raw page's (medians of the rounds):
${verdict(dawBusyMedian(single.padmesh), BUSY_RATIO * dawBusyMedian(single.raw), '%', 1)}.

${renderStartup(startup)}

**Bundles**: the /assets/ files Chromium loaded for each page (as the server sent them, from dist/client),
and the script inlined in its HTML (scripts/inline-script.ts), each gzipped alone at zlib's default level.
Content-Encoding the server sent them with: ${encodings}.
- controller (\`/join/…\`, until its first hit): ${chunkList(phoneChunks)}; JS ${kb(phoneJsGzip)} KB gzip.
  Target ≤ ${CONTROLLER_GZIP_KB} KB gzip: ${verdict(phoneJsGzip / 1024, CONTROLLER_GZIP_KB, 'KB', 1)}.
- DAW (\`/daw\`): ${chunkList(dawChunks)}; JS ${kb(dawJsGzip)} KB gzip.
`;
}

/**
 * `--single-only N`: only (a)'s one-controller table, padmesh beside raw over N rounds (and, as a
 * diagnostic, padmesh with the DAW page's UI below its header hidden): a quick check while working on the hit path.
 */
async function singleOnlyRun(jam: Jam, rounds: number, plan: Plan): Promise<BenchSection> {
  const { daw, code } = await jam.openDaw('?record=20000');
  await shimNames(daw);
  const phone = await jam.joinPhone(code, NAMES[0] as string);
  await shimNames(phone);
  await waitForP2p(phone, WAIT.timeout);
  await memberRow(daw, NAMES[0] as string)
    .and(daw.locator('[data-transport=p2p]'))
    .waitFor(WAIT);
  await installReceiver(daw, 20_000);
  await connectRaw(daw, [phone]);
  const hide = (css: string | null) =>
    daw.evaluate((text) => {
      const sheet = new CSSStyleSheet();
      if (text !== null) sheet.replaceSync(text);
      document.adoptedStyleSheets = text === null ? [] : [sheet];
    }, css);
  await padmeshRun(daw, [phone], plan.warmup, 0);
  await rawRun(daw, [phone], plan.warmup);
  if (process.argv.includes('--profile')) await profileRun(daw, phone, plan.hits);
  if (process.argv.includes('--trace')) {
    const pages = { DAW: daw, phone };
    const idleMs = plan.hits * INTERVAL_MS + 500;
    printSummaries('idle', await traceMainThreads(jam.browser, pages, () => sleep(idleMs)));
    printSummaries('padmesh', await traceMainThreads(jam.browser, pages, () => padmeshRun(daw, [phone], plan.hits, 0)));
    printSummaries('raw', await traceMainThreads(jam.browser, pages, () => rawRun(daw, [phone], plan.hits)));
  }
  const runs: Record<MultiContender, RunStats[]> = { padmesh: [], raw: [], bare: [] };
  const all: MultiContender[] = ['padmesh', 'raw', 'bare'];
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const contender = all[(round + k) % all.length] as MultiContender;
      const before = await Promise.all([daw, phone].map(pageMetrics));
      if (contender === 'raw') runs.raw.push(await rawRun(daw, [phone], plan.hits));
      else if (contender === 'padmesh') runs.padmesh.push(await padmeshRun(daw, [phone], plan.hits, 0));
      else {
        await hide(HIDE_DAW_UI);
        runs.bare.push(await padmeshRun(daw, [phone], plan.hits, 0));
        await hide(null);
      }
      const after = await Promise.all([daw, phone].map(pageMetrics));
      const delta = (i: number) =>
        Object.entries(after[i] as Record<string, number>)
          .map(
            ([key, value]) =>
              `${key} ${(1000 * (value - ((before[i] as Record<string, number>)[key] ?? 0))).toFixed(0)}`,
          )
          .join(', ');
      console.log(`${contender}: DAW ms: ${delta(0)}; phone ms: ${delta(1)}`);
    }
  }
  const raw = medianOfRounds(runs.raw);
  const line = (label: string, list: RunStats[]) => {
    const stat = medianOfRounds(list);
    return (
      `| ${label} | ${stat.n} | ${ms(stat.p50)} | ${ms(stat.p99)} | ${(stat.p50 / raw.p50).toFixed(2)} | ` +
      `${(stat.p99 / raw.p99).toFixed(2)} | ${list.reduce((t, r) => t + r.lost, 0)} | ` +
      `${ms(median(list.map((r) => r.dawBusy)), 0)} | ${ms(median(list.map((r) => r.senderBusy)), 0)} |`
    );
  };
  writeResults('hit-path-single', runs);
  const markdown = `| path | hits | p50 | p99 | p50/raw | p99/raw | lost | DAW busy | sender busy |
|---|---|---|---|---|---|---|---|---|
${line('padmesh', runs.padmesh)}
${line('raw', runs.raw)}
${line('padmesh, DAW UI hidden', runs.bare)}`;
  return { markdown, results: runs };
}

/** A padmesh run under Chromium's sampling profiler in both pages: each page's top functions by self time. */
async function profileRun(daw: Page, phone: Page, hits: number): Promise<void> {
  const cdp = await Promise.all([daw, phone].map((page) => page.context().newCDPSession(page)));
  for (const session of cdp) {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: 100 });
    await session.send('Profiler.start');
  }
  await padmeshRun(daw, [phone], hits, 0);
  for (const [i, session] of cdp.entries()) {
    const { profile } = await session.send('Profiler.stop');
    // The whole profile too, for Chromium's DevTools (Performance › Load profile) or a script.
    const file = join(tmpdir(), 'padmesh-bench', `hit-path-${i === 0 ? 'daw' : 'phone'}.cpuprofile`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    console.log(`profile written: ${file}`);
    const self = new Map<string, number>();
    const dt = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let k = 0; k < samples.length; k++)
      dt.set(samples[k] as number, (dt.get(samples[k] as number) ?? 0) + (deltas[k] ?? 0));
    for (const node of profile.nodes) {
      const f = node.callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0) / 1000);
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 40);
    console.log(`── profile: ${i === 0 ? 'DAW' : 'phone'} (ms self) ──`);
    for (const [key, value] of top) console.log(`${value.toFixed(1).padStart(8)}  ${key}`);
    // Who calls the dearest of the page's own functions (by self time, with their callers' chain).
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const name = (id: number) => {
      const f = byId.get(id)?.callFrame;
      return f ? `${f.functionName || '(anon)'}:${f.lineNumber + 1}` : '?';
    };
    const own = profile.nodes
      .filter((node) => node.callFrame.url !== '' && (dt.get(node.id) ?? 0) > 5_000)
      .sort((a, b) => (dt.get(b.id) ?? 0) - (dt.get(a.id) ?? 0))
      .slice(0, 6);
    for (const node of own) {
      const chain: string[] = [];
      for (let id: number | undefined = node.id; id !== undefined && chain.length < 8; id = parent.get(id))
        chain.push(name(id));
      console.log(`${((dt.get(node.id) ?? 0) / 1000).toFixed(1).padStart(8)}  ${chain.join(' ← ')}`);
    }
  }
}

/** The part of a CDP `Profiler.Profile` that printStartupProfile reads. */
interface CpuProfile {
  nodes: { id: number; children?: number[]; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * --startup-profile: where one page's JavaScript spent one page load, to its first P2P hit (best read with
 * an unminified build, `npx vite build --minify false`): the functions with the most time in and under
 * them (ms, sampled every 0.1 ms, which slows the page), each beside its own time.
 */
function printStartupProfile(label: string, profile: CpuProfile): void {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const name = (id: number) => {
    const f = byId.get(id)?.callFrame;
    return f ? `${f.functionName || '(anon)'}@${f.url.split('/').pop()}:${f.lineNumber + 1}` : '?';
  };
  const deltas = profile.timeDeltas ?? [];
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = (deltas[i + 1] ?? 100) / 1000;
    const seen = new Set<string>();
    const leaf = samples[i] as number;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + dt);
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const key = name(id);
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
      seen.add(key);
    }
  }
  console.log(`── ${label}: JavaScript by time in and under (ms), and own time ──`);
  for (const [key, value] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 70)) {
    if (value < 0.5) break;
    console.log(`${value.toFixed(1).padStart(8)} ${(self.get(key) ?? 0).toFixed(1).padStart(7)}  ${key}`);
  }
}

/** (e)'s table: where the time from page open to the first P2P hit goes, per build. */
function renderStartup(startup: Awaited<ReturnType<typeof startups>>): string {
  const labels = Object.keys(startup.samples);
  const st = startup.samples[labels[0] as string] ?? [];
  const stepMedian = (samples: Startup[], key: StartupStep) =>
    median(samples.map((sample) => sample.steps[key] ?? Number.NaN).filter(Number.isFinite));
  const firstHit = median(st.map((sample) => sample.firstHitArrived));
  const p2pVia = st.filter((sample) => sample.via === 0).length;
  const stepRows = STARTUP_STEPS.map(
    ([key, label]) =>
      `| ${label} | ${labels.map((name) => ms(stepMedian(startup.samples[name] ?? [], key), 0)).join(' | ')} |`,
  ).join('\n');
  const allSamples = labels
    .map(
      (name) =>
        `${name}: ${(startup.samples[name] ?? []).map((sample) => ms(sample.firstHitArrived, 0)).join(', ')} ` +
        `(${(startup.samples[name] ?? []).filter((sample) => sample.via === 0).length} over P2P)`,
    )
    .join('; ');

  return `**Controller page open → first hit over P2P** (${st.length} page loads${labels.length > 1 ? ' of each build, taking turns (rotating order)' : ''}, fresh browser context each, a returning
player: a name remembered and the browser's id from an earlier visit; an init script taps pad 0 the moment the page shows P2P). Where the time goes:
each step's median, ms after the phone page's navigation start (DAW steps on the same wall clock). The steps are
read off the browser's own WebSocket and RTCPeerConnection, wrapped by an init script in both pages (the first
of each: "ICE connected" is \`iceConnectionState\`, "DTLS connected" \`connectionState\`, "offer in" the first
\`signal\` message).

| step | ${labels.join(' | ')} |
|---|${labels.map(() => '---|').join('')}
${stepRows}

All samples (first hit, ms): ${allSamples}.${pairedStartup(startup.samples, labels)}
Target ≤ ${FIRST_HIT_MS} ms on loopback (${labels[0]}): ${verdict(firstHit, FIRST_HIT_MS, 'ms', 0)}; ${p2pVia} of ${st.length} first hits came over P2P.`;
}

/**
 * With a baseline build: the first hit of load i of this build against load i of the baseline (taken in
 * turns, so under about the same load), as the median of the differences and how often this build was sooner.
 * On a noisy machine this says more than the two medians apart.
 */
function pairedStartup(samples: Record<string, Startup[]>, labels: string[]): string {
  const [mine = [], theirs = []] = labels.map((label) => samples[label] ?? []);
  if (labels.length < 2 || mine.length === 0) return '';
  const differences = mine
    .slice(0, theirs.length)
    .map((sample, i) => sample.firstHitArrived - (theirs[i] as Startup).firstHitArrived);
  const sooner = differences.filter((difference) => difference < 0).length;
  const paired = median(differences);
  return (
    `\nPaired, load by load: ${labels[0]} − ${labels[1]} = ${paired >= 0 ? '+' : '−'}${ms(Math.abs(paired), 0)} ms ` +
    `(median of ${differences.length} differences); ${labels[0]} sooner in ${sooner} of ${differences.length}.`
  );
}

if (isMain(import.meta.url)) await runAlone('hit-path', hitPathBenchmark);
