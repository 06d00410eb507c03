/**
 * Issue 9 (8): one hostile controller must not freeze the DAW tab. Headless Chromium on
 * loopback: a DAW page (its hit recorder) and honest phones tapping their real pads, while
 * one more controller floods its data channel with junk (tests/helpers/flood.ts) as fast as
 * the channel takes it, beside the same run with that controller joined but quiet; the two
 * alternate in one run. Each run joins a fresh extra controller (a blocked one could not
 * flood twice), which leaves afterwards.
 *
 * The DAW, the honest phones and the extra controllers each run in a browser of their own,
 * as on separate devices: in one browser every page's packets pass through one network
 * process, and the flooder's backlog there delayed the honest phones' sends, which no real
 * phone would suffer. The cores are still shared, so the extra controllers' browser runs at
 * the lowest CPU priority (`nice -n 19`): a flooding phone spends its own CPU, not the
 * laptop's. The DAW browser's own CPU time (every process of it, from /proc) is the figure
 * that load from elsewhere does not inflate.
 *
 * `--profile`: one more flood and one more quiet run with the DAW page under Chromium's sampling
 * profiler, and where its main thread's time went (printed, and in the results JSON).
 *
 * Needs a loopback-only network namespace. Alone: `npx tsx bench/flood.ts [--quick] [--no-build] [--profile]`
 * (re-runs itself in one); from bench/run.ts: `floodBenchmark({ quick })`.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { findChromium, INSTALL_HINT } from '../scripts/chromium.ts';
import { CHROMIUM_ARGS, launchChromium, PHONE } from '../tests/helpers/browser.ts';
import { type FloodResult, floodScript, startFlood } from '../tests/helpers/flood.ts';
import { Jam, memberRow, recordedHits, tapRhythm, WEBRTC_ARGS, waitForP2p } from '../tests/helpers/jam.ts';
import {
  type BenchSection,
  type BrowserBenchOptions,
  buildClient,
  isMain,
  medianOfRounds,
  ms,
  RESULTS_DIR,
  runAlone,
  type Summary,
  shimNames,
  sleep,
  summarize,
  waitUntil,
  withTimeout,
  writeResults,
} from './browser-common.ts';
import { taskSeconds } from './hit-path.ts';
import { median } from './stats.ts';

const HONEST = ['Anya', 'Bruno'];
const INTERVAL_MS = 10; // 100 hits/s per honest phone: a fast roll
/** The flood starts this long after the honest phones start tapping. */
const FLOOD_DELAY_MS = 200;
const WAIT = { timeout: 20_000 };

interface Plan {
  rounds: number;
  /** Hits per honest phone per run. */
  hits: number;
  /** The flood's own bound (it ends sooner when its channel is closed). */
  floodMs: number;
}
const FULL: Plan = { rounds: 6, hits: 300, floodMs: 2_000 };
const QUICK: Plan = { rounds: 2, hits: 150, floodMs: 1_000 };

type Contender = 'flood' | 'quiet';

interface Run extends Summary {
  /** Every honest hit's delay, ms (pooled over runs for the tail). */
  delays: number[];
  sent: number;
  lost: number;
  duplicates: number;
  /** Honest hits that did not come over P2P. */
  otherVia: number;
  /** The DAW page's main-thread task time over the run, % of its wall time. */
  dawBusy: number;
  /** CPU time of every process of the DAW's browser over the run, % of one core. */
  dawCpu: number;
  /** What the extra controller sent, if it flooded. */
  flood: FloodResult | null;
  /** Its messages the DAW read and refused (its row's count): what reached the DAW's main thread. */
  extraRefused: number;
  /** Its row's text after the run. */
  extraRow: string;
}

/** CPU ms (user + system) of `root` and all its descendants, from /proc. */
function treeCpuMs(root: number): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * 10); // clock ticks of 10 ms
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  for (const [pid, spent] of cpu) {
    for (let at: number | undefined = pid, depth = 0; at !== undefined && depth < 16; at = parent.get(at), depth++) {
      if (at === root) {
        total += spent;
        break;
      }
    }
  }
  return total;
}

const childPids = (): Set<number> => {
  const children = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) children.add(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return children;
};

/** Launches something that starts one child process of ours (a browser); returns it and that process's pid. */
async function withPid<T>(launch: () => Promise<T>): Promise<{ value: T; pid: number }> {
  const before = childPids();
  const value = await launch();
  const added = [...childPids()].filter((pid) => !before.has(pid));
  if (added.length !== 1) throw new Error(`expected one new browser process, found ${added.length}`);
  return { value, pid: added[0] as number };
}

/** Chromium at the lowest CPU priority: what it does costs this machine only CPU nothing else wants. */
async function launchNiced(): Promise<Browser> {
  const executable = findChromium();
  if (!executable) throw new Error(INSTALL_HINT);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const wrapper = join(RESULTS_DIR, 'niced-chromium.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec nice -n 19 '${executable.replaceAll("'", "'\\''")}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_ARGS, ...WEBRTC_ARGS] });
}

/** A phone in a browser of its own (Jam.joinPhone, in another browser). */
async function joinIn(browser: Browser, jam: Jam, code: string, name: string, init?: string): Promise<Page> {
  const context = await browser.newContext({ ...PHONE, permissions: ['microphone'] });
  if (init) await context.addInitScript({ content: init });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => jam.errors.push(error));
  await page.goto(`${jam.phoneBase}/join/${code}`);
  await page.getByTestId('name-input').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('[data-testid=status][data-state=connected]').waitFor();
  await shimNames(page);
  return page;
}

interface Rig {
  jam: Jam;
  daw: Page;
  dawPid: number;
  code: string;
  honest: Page[];
  extras: Browser;
  plan: Plan;
}

const recorderCount = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { count: number } }).padmeshRecorder.count);
const clearRecorder = (daw: Page) =>
  daw.evaluate(() => (window as unknown as { padmeshRecorder: { clear(): void } }).padmeshRecorder.clear());

let extraCount = 0;
/** A fresh extra controller, P2P with the DAW; it floods only when told to. */
async function joinExtra(rig: Rig): Promise<{ page: Page; name: string }> {
  extraCount += 1;
  const name = `Extra${extraCount}`;
  const page = await joinIn(rig.extras, rig.jam, rig.code, name, floodScript({ auto: false, ms: rig.plan.floodMs }));
  await waitForP2p(page, WAIT.timeout);
  await memberRow(rig.daw, name).and(rig.daw.locator('[data-transport=p2p]')).waitFor(WAIT);
  const caught = () => page.evaluate(() => Boolean((window as { __flood?: { channel: unknown } }).__flood?.channel));
  if (!(await waitUntil(caught, 5_000))) throw new Error(`${name}: its channel was not caught`);
  return { page, name };
}

/** The honest phones tap; meanwhile the extra controller floods, or not. */
async function tapAndFlood(rig: Rig, extra: Page, flooding: boolean, hits: number): Promise<FloodResult | null> {
  const tapping = Promise.all(
    rig.honest.map((phone, i) => tapRhythm(phone, { pad: i, count: hits, intervalMs: INTERVAL_MS })),
  );
  const flooding$ = flooding
    ? sleep(FLOOD_DELAY_MS).then(() => startFlood(extra, rig.plan.floodMs))
    : Promise.resolve(null);
  const [, flood] = await withTimeout(
    Promise.all([tapping, flooding$]),
    hits * INTERVAL_MS + rig.plan.floodMs + 30_000,
    'tapping',
  );
  return flood;
}

async function oneRun(rig: Rig, contender: Contender, hits = rig.plan.hits): Promise<Run> {
  const { daw } = rig;
  const extra = await joinExtra(rig);
  await clearRecorder(daw);
  const busyBefore = await taskSeconds(daw);
  const cpuBefore = treeCpuMs(rig.dawPid);
  const started = performance.now();
  const flood = await tapAndFlood(rig, extra.page, contender === 'flood', hits);
  const sent = hits * rig.honest.length;
  await waitUntil(async () => (await recorderCount(daw)) >= sent, 60_000, 20);
  await sleep(300); // a late copy would show up as a second play
  const wallMs = performance.now() - started;
  const dawCpu = (100 * (treeCpuMs(rig.dawPid) - cpuBefore)) / wallMs;
  const dawBusy = (100 * 1000 * ((await taskSeconds(daw)) - busyBefore)) / wallMs;
  const recorded = await recordedHits(daw);
  const delays: number[] = [];
  const seen = new Set<string>();
  let otherVia = 0;
  for (let i = 0; i < recorded.count; i++) {
    delays.push((recorded.arrivedAt[i] as number) - (recorded.sentAt[i] as number));
    seen.add(`${recorded.peer[i]}:${recorded.seq[i]}`);
    if (recorded.via[i] !== 0) otherVia += 1;
  }
  const row = memberRow(daw, extra.name);
  const refused = row.getByTestId('member-refused');
  const extraRefused = (await refused.count()) > 0 ? Number(await refused.textContent()) : 0;
  const extraRow = ((await row.innerText()) ?? '').replace(/\s+/g, ' ').trim();
  await extra.page.context().close();
  return {
    ...summarize(delays),
    delays,
    sent,
    lost: sent - seen.size,
    duplicates: recorded.count - seen.size,
    otherVia,
    dawBusy,
    dawCpu,
    flood,
    extraRefused,
    extraRow,
  };
}

interface ProfileRow {
  what: string;
  ms: number;
  /** Share of the busy (not idle) time, %. */
  share: number;
}

/** One run with the DAW page under the sampling profiler: self time by function and by kind of code. */
async function profiledRun(rig: Rig, flooding: boolean) {
  const extra = await joinExtra(rig);
  const session = await rig.daw.context().newCDPSession(rig.daw);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  await session.send('Profiler.start');
  const flood = await tapAndFlood(rig, extra.page, flooding, rig.plan.hits);
  await sleep(300);
  const { profile } = await session.send('Profiler.stop');
  await session.detach();
  const refused = memberRow(rig.daw, extra.name).getByTestId('member-refused');
  const read = (await refused.count()) > 0 ? Number(await refused.textContent()) : 0;
  await extra.page.context().close();
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  const byFunction = new Map<string, number>();
  const byKind = new Map<string, number>();
  let busy = 0;
  for (const [id, spent] of self) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    busy += spent;
    const file = frame.url.split('/').pop() ?? '';
    const name = frame.functionName || '(anonymous)';
    const label = file ? `${name} (${file}:${frame.lineNumber + 1})` : name;
    byFunction.set(label, (byFunction.get(label) ?? 0) + spent);
    const kind = name.startsWith('(') ? name : file ? `script: ${file.replace(/-[\w-]{8}\.js$/, '.js')}` : 'native API';
    byKind.set(kind, (byKind.get(kind) ?? 0) + spent);
  }
  const rows = (map: Map<string, number>, count: number): ProfileRow[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([what, spent]) => ({ what, ms: spent, share: (100 * spent) / busy }));
  return { flood, read, busyMs: busy, byFunction: rows(byFunction, 20), byKind: rows(byKind, 10) };
}

export async function floodBenchmark(options: BrowserBenchOptions & { profile?: boolean }): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  buildClient(options);
  const started = Date.now();
  const load = [loadavg()[0] as number];
  const { value: jam, pid: dawPid } = await withPid(() => Jam.launch());
  const phones = await launchChromium(WEBRTC_ARGS);
  const extras = await launchNiced();
  try {
    await jam.startServer();
    const { daw, code } = await jam.openDaw('?record=20000');
    await shimNames(daw);
    const honest: Page[] = [];
    for (const name of HONEST) {
      const phone = await joinIn(phones, jam, code, name);
      await waitForP2p(phone, WAIT.timeout);
      await memberRow(daw, name).and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
      honest.push(phone);
    }
    const rig: Rig = { jam, daw, dawPid, code, honest, extras, plan };
    await oneRun(rig, 'quiet', 60); // warm-up (JIT, first packets), discarded

    const runs: Record<Contender, Run[]> = { flood: [], quiet: [] };
    for (let round = 0; round < plan.rounds; round++) {
      const order: Contender[] = round % 2 === 0 ? ['flood', 'quiet'] : ['quiet', 'flood'];
      for (const contender of order) {
        const run = await oneRun(rig, contender);
        console.log(
          `${contender}: p50 ${ms(run.p50)} p99 ${ms(run.p99)} max ${ms(run.max)} lost ${run.lost} twice ${run.duplicates}` +
            ` busy ${ms(run.dawBusy, 0)}% cpu ${ms(run.dawCpu, 0)}%` +
            ` flood ${run.flood ? `${run.flood.sent} sent, ${run.flood.ended} after ${ms(run.flood.ms, 0)} ms` : '-'}` +
            ` | ${run.extraRow}`,
        );
        runs[contender].push(run);
      }
    }
    load.push(loadavg()[0] as number);
    const profile = options.profile
      ? { flood: await profiledRun(rig, true), quiet: await profiledRun(rig, false) }
      : null;
    if (profile) console.log(JSON.stringify(profile, null, 2));
    const errors = jam.errors.map((error) => error.message);
    const results = { plan, seconds: (Date.now() - started) / 1000, load, runs, profile, errors };
    writeResults('flood', results);
    return { markdown: render(plan, runs, load), results };
  } finally {
    await extras.close();
    await phones.close();
    await jam.close();
  }
}

function render(plan: Plan, runs: Record<Contender, Run[]>, load: number[]): string {
  const row = (label: string, list: Run[]) => {
    const stat = medianOfRounds(list);
    const sum = (key: 'sent' | 'lost' | 'duplicates' | 'otherVia') => list.reduce((total, run) => total + run[key], 0);
    const med = (key: 'dawBusy' | 'dawCpu' | 'extraRefused') => median(list.map((run) => run[key]));
    const pooled = summarize(list.flatMap((run) => run.delays));
    const worst = Math.max(...list.map((run) => run.p99));
    return (
      `| ${label} | ${stat.n} (${list.length} × ${list[0]?.sent ?? 0}) | ${ms(stat.p50)} | ${ms(stat.p99)} | ${ms(pooled.p99)} | ${ms(worst)} | ${ms(pooled.max)} | ` +
      `${sum('lost')} | ${sum('duplicates')} | ${sum('otherVia')} | ${ms(med('dawBusy'), 0)} | ${ms(med('dawCpu'), 0)} | ${med('extraRefused')} |`
    );
  };
  const floods = runs.flood.map((run) => run.flood).filter((flood): flood is FloodResult => flood !== null);
  const endings = [...new Set(floods.map((flood) => flood.ended))]
    .map((ended) => `${floods.filter((flood) => flood.ended === ended).length} × ${ended}`)
    .join(', ');
  return `## One controller flooding its data channel (bench/flood.ts)

Headless Chromium on loopback, the real signal server and built client: a DAW page (\`/daw?record=N\`) and
${HONEST.length} honest phones on P2P, each tapping its own pad every ${INTERVAL_MS} ms (${1000 / INTERVAL_MS} hits/s) with real
\`pointerdown\` events, ${plan.hits} hits each per run. In each run one more controller joins and links P2P. In **flood**
runs it starts, ${FLOOD_DELAY_MS} ms after the tapping, sending 1-byte junk packets on its data channel as fast as the
channel takes them (up to 1 MiB buffered) until the channel closes or ${plan.floodMs} ms pass
(tests/helpers/flood.ts); in **quiet** runs it sends nothing. It leaves after each run, so every flood comes from a
fresh controller. The DAW, the honest phones and the extra controllers run in three browsers, as on three devices (in
one browser all pages' packets pass one network process, and the flooder's backlog there held up the honest phones'
sends); they share this machine's cores, the extra controllers' browser at the lowest priority (\`nice -n 19\`), so
that the flooder's own sending, which a real phone does on its own CPU, takes little of the laptop's. Flood and quiet alternate over ${plan.rounds} rounds; each figure is the
median over runs, n the total, except "all hits" (every run's hits together: a flood hurts in
a few runs, and the median of runs would hide them), the worst run's p99 and the max (of all). Delay = arrival at \`DawPeers\` − tap, both on this machine's wall clock. "DAW busy": the
DAW page's main-thread task time (CDP TaskDuration); "DAW CPU": the CPU time of every process of the DAW's browser
(/proc), which waiting for a core does not inflate; both over the run, % of its wall time. "Read": the extra
controller's messages the DAW read before it closed the channel (its row's refused count).
Load average (1 min) at the start and the end: ${load.map((value) => value.toFixed(1)).join(', ')}.

| run | honest hits | p50 (ms) | p99 (ms) | p99, all hits (ms) | worst run's p99 (ms) | max (ms) | lost | played twice | not P2P | DAW busy (%) | DAW CPU (%) | read |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${row('quiet (no flood)', runs.quiet)}
${row('one controller flooding', runs.flood)}

The floods: a median of ${Math.round(median(floods.map((flood) => flood.sent)))} packets handed to the flooder's channel in a median of
${ms(median(floods.map((flood) => flood.ms)), 0)} ms, ended by ${endings} (\`time\`: its ${plan.floodMs} ms were up before the flooder saw its
channel closed; its own queue of up to 1 MiB had first to drain).
`;
}

if (isMain(import.meta.url)) {
  await runAlone('flood', (options) => floodBenchmark({ ...options, profile: process.argv.includes('--profile') }));
}
