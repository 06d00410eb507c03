/**
 * Issue 4 (c): pad hits over a lossy, jittery LAN. Two network namespaces (a laptop and a phone)
 * joined by tests/helpers/faulty-lan.ts's userspace wire (20 ms ± 10 ms each way, FIFO) with
 * nftables dropping 5 % of the UDP packets arriving at each host; the real `npm start` and the
 * DAW page (with its hit recorder) on the laptop, one phone page on the phone, P2P between them.
 * The phone taps in phrases, alternating instant and steady mode on the DAW; we count what was
 * delivered and played twice, and how evenly the sounds follow the taps.
 *
 * Needs a loopback-only network namespace. Alone: `npx tsx bench/loss.ts [--quick] [--no-build]`;
 * from bench/run.ts: `lossBenchmark({ quick })`.
 */
import type { Page } from 'playwright-core';
import type { RecordedHits } from '../client/state/hit-recorder.ts';
import { FaultyLan, type UdpLossCounter, type WireStats } from '../tests/helpers/faulty-lan.ts';
import { memberRow, recordedHits, tapRhythm, waitForP2p } from '../tests/helpers/jam.ts';
import type { Lan } from '../tests/helpers/lan.ts';
import {
  type BenchSection,
  type BrowserBenchOptions,
  buildClient,
  isMain,
  medianOfRounds,
  ms,
  runAlone,
  type Summary,
  shimNames,
  sleep,
  summarize,
  waitUntil,
  withTimeout,
  writeResults,
} from './browser-common.ts';
import { median } from './stats.ts';

const DELAY_MS = 20;
const JITTER_MS = 10;
const LOSS_PERCENT = 5;
const INTERVAL_MS = 10; // 100 hits/s: a fast roll
const WAIT = { timeout: 30_000 };
const DELIVERED_TARGET = 0.999;
/** How long the beat light is watched on both pages. */
const BEAT_WATCH_MS = 4_000;

interface Plan {
  rounds: number;
  hits: number;
  warmup: number;
}
const FULL: Plan = { rounds: 3, hits: 400, warmup: 100 };
const QUICK: Plan = { rounds: 3, hits: 100, warmup: 60 };

type Mode = 'instant' | 'steady';

interface Phrase {
  sent: number;
  delivered: number;
  /** Taps that never played, by their place in the phrase (0 = first). */
  missing: number[];
  playedTwice: number;
  viaRelay: number;
  late: number;
  /** |(audioAt − sentAt) − its median over the phrase|, ms, every played hit. */
  error: Summary;
  /** The same, steady hits on time only. */
  errorOnTime: Summary;
  /** Arrival − tap (shared clock), ms. */
  transit: Summary;
  /** Steady: playAt − arrivedAt of the hits planned in time, ms. */
  hold: Summary;
  /** Steady: playAt − tapAt (the phrase's fixed delay), median, ms. */
  steadyDelay: number;
  /**
   * What the DAW's member list showed after the phrase: its clock offset estimate (both hosts
   * read this machine's one clock, so the true offset is 0 and this is the estimate's error),
   * the uncertainty it states (half the best round trip), and the one-way delay (median transit
   * through the estimate, beside the true one: `transit.p50`).
   */
  offsetMs: number;
  clockErrorMs: number;
  oneWayMs: number;
}

const clearRecorder = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { clear(): void } }).padmeshRecorder.clear());
const recorderCount = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { count: number } }).padmeshRecorder.count);

/** The DAW's figures for the phone, as its member list shows them (NaN where it shows none). */
async function shownFigures(daw: Page): Promise<Pick<Phrase, 'offsetMs' | 'clockErrorMs' | 'oneWayMs'>> {
  const read = async (testId: string, name: string) => {
    const value = await daw.locator(`[data-testid=${testId}]`).first().getAttribute(name, { timeout: 5_000 });
    return value === null || value === '' ? Number.NaN : Number(value);
  };
  return {
    offsetMs: await read('member-offset', 'data-offset-ms'),
    clockErrorMs: await read('member-offset', 'data-clock-error-ms'),
    oneWayMs: await read('member-one-way', 'data-one-way-ms'),
  };
}

/** `firstSeq`: the phone's seq of the phrase's first tap (its seqs count taps from 0 since the page loaded). */
function analyse(
  hits: RecordedHits,
  sent: number,
  firstSeq: number,
  shown: Pick<Phrase, 'offsetMs' | 'clockErrorMs' | 'oneWayMs'>,
): Phrase {
  const times = new Map<number, number>();
  for (const seq of hits.seq) times.set(seq, (times.get(seq) ?? 0) + 1);
  const missing: number[] = [];
  for (let k = 0; k < sent; k++) if (!times.has(firstSeq + k)) missing.push(k);
  const played = [...hits.audioAt.keys()].filter((i) => Number.isFinite(hits.audioAt[i]));
  const lag = played.map((i) => (hits.audioAt[i] as number) - (hits.sentAt[i] as number));
  const typical = median(lag);
  const errors = lag.map((value) => Math.abs(value - typical));
  const planned = [...hits.playAt.keys()].filter((i) => Number.isFinite(hits.playAt[i]) && hits.late[i] === 0);
  return {
    sent,
    delivered: times.size,
    missing,
    playedTwice: [...times.values()].filter((n) => n > 1).length,
    viaRelay: hits.via.filter((via) => via !== 0).length,
    late: hits.late.filter((late) => late === 1).length,
    error: summarize(errors),
    errorOnTime: summarize(errors.filter((_, k) => hits.late[played[k] as number] === 0)),
    transit: summarize(hits.arrivedAt.map((arrived, i) => arrived - (hits.sentAt[i] as number))),
    hold: summarize(planned.map((i) => (hits.playAt[i] as number) - (hits.arrivedAt[i] as number))),
    steadyDelay: median(planned.map((i) => (hits.playAt[i] as number) - (hits.tapAt[i] as number))),
    ...shown,
  };
}

let tapped = 0;
/** One phrase of `count` taps; waits for the stragglers and for the next phrase's gap (> 1 s). */
async function phrase(daw: Page, phone: Page, count: number): Promise<Phrase> {
  const firstSeq = tapped;
  tapped += count;
  await clearRecorder(daw);
  await withTimeout(
    tapRhythm(phone, { pad: 4, count, intervalMs: INTERVAL_MS }),
    count * INTERVAL_MS + 15_000,
    'tapping',
  );
  await waitUntil(async () => (await recorderCount(daw)) >= count, 3_000, 50);
  await sleep(1_200); // the last copies land; a silence of 1 s starts the next phrase afresh (hit-timing.ts)
  return analyse(await recordedHits(daw), count, firstSeq, await shownFigures(daw));
}

/** One beat light's frames: `[Date.now(), data-beat]` at every animation frame (as tests/e2e/timing.test.ts). */
type Frames = [number, string][];

/**
 * The beat light on the phone beside the DAW's: the beat runs at 150 BPM for BEAT_WATCH_MS while
 * both pages note, on this machine's one clock, each animation frame and the beat it showed.
 * For each beat both lit: phone − DAW, ms (0: seen together; the phone adds its clock offset
 * estimate's error, each page up to a frame).
 */
async function beatLight(daw: Page, phone: Page): Promise<{ diffs: number[]; frameMs: number[] }> {
  await daw.getByTestId('bpm').fill('150');
  await daw.getByTestId('bpm').press('Enter');
  await daw.getByTestId('beat-toggle').click();
  await phone.locator('[data-testid=beat-light][title="150 BPM"]').waitFor(WAIT);
  const record = (page: Page) =>
    page.evaluate((watchMs) => {
      const light = document.querySelector('[data-testid=beat-light]') as HTMLElement;
      const frames: [number, string][] = [];
      const until = Date.now() + watchMs;
      return new Promise<[number, string][]>((resolve) => {
        const frame = () => {
          frames.push([Date.now(), light.dataset.beat ?? '']);
          if (Date.now() < until) requestAnimationFrame(frame);
          else resolve(frames);
        };
        requestAnimationFrame(frame);
      });
    }, BEAT_WATCH_MS);
  const [onDaw, onPhone] = await withTimeout(
    Promise.all([record(daw), record(phone)]),
    BEAT_WATCH_MS + 30_000,
    'beat light',
  );
  await daw.getByTestId('beat-toggle').click();
  const firstLit = (frames: Frames) => {
    const lit = new Map<string, number>();
    for (const [at, beat] of frames) if (beat !== '' && !lit.has(beat)) lit.set(beat, at);
    return lit;
  };
  const [dawLit, phoneLit] = [firstLit(onDaw), firstLit(onPhone)];
  const diffs = [...dawLit]
    .filter(([beat]) => phoneLit.has(beat))
    .map(([beat, at]) => (phoneLit.get(beat) as number) - at);
  const gaps = (frames: Frames) => frames.slice(1).map(([at], k) => at - (frames[k] as [number, string])[0]);
  return { diffs, frameMs: [...gaps(onDaw), ...gaps(onPhone)] };
}

/**
 * Lan.joinPhone, but a page load that shows no join form in 15 s is reloaded once (seen once in a
 * long run: the phone's first page load over the wire stalled), and what it showed is kept in the error.
 */
async function joinPhone(lan: Lan, url: string, name: string): Promise<Page> {
  const phone = await lan.page('phone');
  await phone.goto(url);
  const form = phone.getByTestId('name-input');
  for (let attempt = 1; ; attempt++) {
    try {
      await form.waitFor({ timeout: 15_000 });
      break;
    } catch (error) {
      const shown = await phone
        .evaluate(() =>
          JSON.stringify({
            readyState: document.readyState,
            body: document.body?.innerHTML.slice(0, 300) ?? null,
            loaded: performance
              .getEntriesByType('resource')
              .map((entry) => `${entry.name} ${Math.round(entry.duration)} ms`),
          }),
        )
        .catch((error: Error) => error.message);
      if (attempt >= 2) throw new Error(`no join form at ${url}; the page shows: ${shown}`, { cause: error });
      console.warn(`loss: no join form after 15 s (the page shows: ${shown}); reloading`);
      await phone.reload();
    }
  }
  await form.fill(name);
  await phone.getByRole('button', { name: 'Join' }).click();
  await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
  return phone;
}

async function setMode(daw: Page, phone: Page, mode: Mode): Promise<void> {
  await daw.getByTestId(`mode-${mode}`).click();
  await phone.locator(`[data-testid=timing-badge][data-mode=${mode}]`).waitFor(WAIT);
}

export async function lossBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  buildClient(options);
  const started = Date.now();
  const faulty = await FaultyLan.create({ delayMs: DELAY_MS, jitterMs: JITTER_MS, udpLossPercent: LOSS_PERCENT });
  try {
    const { lan } = faulty;
    await lan.startServer({ stun: true });
    const { daw, joinUrl } = await lan.openDaw('?record=20000');
    await shimNames(daw);
    const phone = await joinPhone(lan, joinUrl, 'Lossy');
    tapped = 0;
    await shimNames(phone);
    await waitForP2p(phone, WAIT.timeout);
    await memberRow(daw, 'Lossy').and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
    await memberRow(daw, 'Lossy').getByTestId('member-offset').waitFor(WAIT); // clocks synced: steady can plan

    const lossBefore = faulty.udpLoss();
    const wireBefore = await faulty.wireStats();
    await phrase(daw, phone, plan.warmup); // warm-up: transits for steady mode's window, JIT
    const phrases: Record<Mode, Phrase[]> = { instant: [], steady: [] };
    for (let round = 0; round < plan.rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['instant', 'steady'] : ['steady', 'instant'];
      for (const mode of order) {
        await setMode(daw, phone, mode);
        phrases[mode].push(await phrase(daw, phone, plan.hits));
      }
    }
    const lossAfter = faulty.udpLoss();
    const wireAfter = await faulty.wireStats();
    const beat = await beatLight(daw, phone);
    const applied = (host: 'laptop' | 'phone') => ({
      seen: (lossAfter[host] as UdpLossCounter).seen - (lossBefore[host] as UdpLossCounter).seen,
      dropped: (lossAfter[host] as UdpLossCounter).dropped - (lossBefore[host] as UdpLossCounter).dropped,
    });
    const loss = { laptop: applied('laptop'), phone: applied('phone') };
    const errors = lan.errors.map((error) => error.message);
    const results = {
      plan,
      seconds: (Date.now() - started) / 1000,
      phrases,
      loss,
      wireBefore,
      wireAfter,
      beat,
      errors,
    };
    writeResults('loss', results);
    return { markdown: render(plan, phrases, loss, wireBefore, wireAfter, beat), results };
  } finally {
    await faulty.close();
  }
}

function render(
  plan: Plan,
  phrases: Record<Mode, Phrase[]>,
  loss: Record<'laptop' | 'phone', { seen: number; dropped: number }>,
  wireBefore: WireStats,
  wireAfter: WireStats,
  beat: { diffs: number[]; frameMs: number[] },
): string {
  const total = (mode: Mode, key: 'sent' | 'delivered' | 'playedTwice' | 'viaRelay' | 'late') =>
    phrases[mode].reduce((sum, p) => sum + p[key], 0);
  const all = (key: 'sent' | 'delivered' | 'playedTwice') => total('instant', key) + total('steady', key);
  const deliveredShare = all('delivered') / all('sent');
  const stat = (mode: Mode, key: 'error' | 'errorOnTime' | 'transit' | 'hold') =>
    medianOfRounds(phrases[mode].map((p) => p[key]));
  const row = (mode: Mode) => {
    const error = stat(mode, 'error');
    const transit = stat(mode, 'transit');
    return (
      `| ${mode} | ${total(mode, 'sent')} | ${total(mode, 'delivered')} (${((100 * total(mode, 'delivered')) / total(mode, 'sent')).toFixed(2)} %) | ` +
      `${total(mode, 'playedTwice')} | ${total(mode, 'viaRelay')} | ${ms(transit.p50, 1)} / ${ms(transit.p99, 1)} | ` +
      `${ms(error.p50)} / ${ms(error.p99)} / ${ms(error.max)} | ${total(mode, 'late')} |`
    );
  };
  const onTime = stat('steady', 'errorOnTime');
  const hold = stat('steady', 'hold');
  const steadyDelay = median(phrases.steady.map((p) => p.steadyDelay));
  const pct = (h: { seen: number; dropped: number }) => ((100 * h.dropped) / Math.max(1, h.seen)).toFixed(2);
  const frames = (key: 'laptopToPhone' | 'phoneToLaptop') => wireAfter[key].forwarded - wireBefore[key].forwarded;
  const queueDropped =
    wireAfter.laptopToPhone.queueDropped +
    wireAfter.phoneToLaptop.queueDropped -
    wireBefore.laptopToPhone.queueDropped -
    wireBefore.phoneToLaptop.queueDropped;
  const steadyP99 = stat('steady', 'error').p99;
  const instantP99 = stat('instant', 'error').p99;
  const every = [...phrases.instant, ...phrases.steady];
  const offsetError = summarize(every.map((p) => Math.abs(p.offsetMs)));
  const clockError = median(every.map((p) => p.clockErrorMs));
  const oneWayGap = summarize(every.map((p) => Math.abs(p.oneWayMs - p.transit.p50)));
  const late = (key: 'laptopToPhone' | 'phoneToLaptop') =>
    (wireAfter[key].lateMsSum - wireBefore[key].lateMsSum) / Math.max(1, wireAfter[key].held - wireBefore[key].held);
  const beatDiff = summarize(beat.diffs.map(Math.abs));
  const frame = summarize(beat.frameMs);
  return `## Pad hits under packet loss and jitter (bench/loss.ts)

Two network namespaces, a laptop and a phone, joined by a userspace wire (tests/helpers/faulty-lan.ts:
${DELAY_MS} ms ± ${JITTER_MS} ms each way, uniform, FIFO) with nftables dropping ${LOSS_PERCENT} % of the UDP packets
arriving at each host (TCP, so signaling, is spared). The real \`npm start\` and the DAW page
(\`/daw?record=N\`) on the laptop, one phone page on the phone, P2P (via the laptop's STUN server).
Hits ride an unordered, no-retransmit channel and each goes out 3 times (in the next packets, or
tail packets 10 ms apart: client/net/hit-sender.ts). The phone taps pad 4 every ${INTERVAL_MS} ms
(100 hits/s, a fast roll) in phrases of ${plan.hits}, with > 1 s between phrases; instant and steady
mode alternate over ${plan.rounds} rounds after a ${plan.warmup}-hit warm-up. Figures are medians over phrases;
counts are totals.

Timing error: for every hit played, |(audioAt − sentAt) − its median over the phrase|, where
audioAt is the engine's start time on the AudioContext clock and sentAt the tap time on the
phone's clock (one machine, so only the spread within a phrase matters): 0 means the sounds keep
exactly the spacing of the taps. It counts late hits too (steady hits that missed the window and
played at once).

| mode | hits sent | delivered | played twice | via relay | transit p50 / p99 (ms) | timing error p50 / p99 / max (ms) | late |
|---|---|---|---|---|---|---|---|
${row('instant')}
${row('steady')}

Steady mode: the fixed tap → play delay was ${ms(steadyDelay, 1)} ms (median over phrases); hits on time were held
${ms(hold.p50, 1)} ms (p50) / ${ms(hold.p99, 1)} ms (p99) after arrival; on-time hits alone: timing error
p50 ${ms(onTime.p50)} / p99 ${ms(onTime.p99)} / max ${ms(onTime.max)} ms.

Clock sync across the wire (both hosts read this machine's one clock, so the true offset is 0 and the DAW's
estimate is its own error), read off the DAW's member list after each phrase: off by ${ms(offsetError.p50)} ms (p50) /
${ms(offsetError.max)} ms (max) over ${offsetError.n} readings, where it states an uncertainty (half its best round trip) of
${ms(clockError)} ms (median). The one-way delay it showed was ${ms(oneWayGap.p50)} ms (p50) / ${ms(oneWayGap.max)} ms (max) from
the true median transit of the phrase. (tests/e2e/timing.test.ts checks only bounds no load can cross; these are the figures.)

Beat light: at 150 BPM for ${BEAT_WATCH_MS / 1000} s, the phone's light came on ${ms(beatDiff.p50, 1)} ms (p50) / ${ms(beatDiff.max, 1)} ms (max)
from the DAW's for the same beat (${beatDiff.n} beats; animation frames ${ms(frame.p50, 1)} ms apart (p50), ${ms(frame.max, 1)} ms at
most: each light comes on at its page's first frame after the beat).

Loss applied during the phrases (nftables counters): laptop dropped ${loss.laptop.dropped} of ${loss.laptop.seen} UDP
packets in (${pct(loss.laptop)} %), phone ${loss.phone.dropped} of ${loss.phone.seen} (${pct(loss.phone)} %). The wire forwarded
${frames('phoneToLaptop')} frames phone → laptop and ${frames('laptopToPhone')} laptop → phone (${queueDropped} dropped for a full queue),
writing them ${ms(late('phoneToLaptop'))} / ${ms(late('laptopToPhone'))} ms after their release time on average (its own wake-up
lateness on this machine; ${ms(Math.max(wireAfter.phoneToLaptop.lateMsMax, wireAfter.laptopToPhone.lateMsMax), 1)} ms at most since it started).

Targets (issue 4 c):
- ≥ ${(DELIVERED_TARGET * 100).toFixed(1)} % of hits delivered: ${deliveredShare >= DELIVERED_TARGET ? 'met' : '**missed**'} (${(100 * deliveredShare).toFixed(2)} %: ${all('delivered')} of ${all('sent')}).
  Each hit's 3 copies ride 3 packets, so with independent loss p a hit is lost with p³ (5 %: 1.25 × 10⁻⁴, about
  ${(0.05 ** 3 * all('sent')).toFixed(1)} expected in ${all('sent')}).${missingNote(phrases)}
- 0 played twice: ${all('playedTwice') === 0 ? 'met' : `**missed** (${all('playedTwice')})`}.
- Steady-mode timing error p99: ${ms(steadyP99)} ms, beside instant mode's ${ms(instantP99)} ms (no numeric target in the issue).
`;
}

function missingNote(phrases: Record<Mode, Phrase[]>): string {
  const lost = (['instant', 'steady'] as const).flatMap((mode) =>
    phrases[mode].flatMap((p) => p.missing.map((k) => `${mode} tap ${k + 1} of ${p.sent}`)),
  );
  return lost.length === 0 ? '' : ` Lost: ${lost.join(', ')}.`;
}

if (isMain(import.meta.url)) await runAlone('loss', lossBenchmark);
