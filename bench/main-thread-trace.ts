/**
 * Where pages' main threads spend their time during some work, from a Chromium trace (CDP Tracing through
 * Playwright's `browser.startTracing`): per page, the main thread's self time by trace event name
 * (`FunctionCall`, `TimerFire`, `FireAnimationFrame`, `UpdateLayoutTree`, `Paint`, `MinorGC`, …), the
 * longest tasks, and the share of the wall time it was busy. Used by `bench/hit-path.ts --single-only N --trace`.
 */
import type { Browser, Page } from 'playwright-core';

const CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'toplevel',
  'blink',
  'v8',
  'v8.execute',
  'cc',
  'benchmark',
];

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { url?: string; frames?: { url?: string; processId?: number }[] } };
}

export interface MainThreadSummary {
  label: string;
  busyPercent: number;
  /** Self time (ms) by event name, largest first. */
  self: [string, number][];
  /** The longest top-level tasks (ms). */
  longest: number[];
  /** What the three longest tasks spent their time on: self time (ms) by event name, largest first. */
  insideLongest: [string, number][][];
  tasks: number;
}

/** Traces every page of `browser` while `work` runs; summarises the main thread of each page in `pages`. */
export async function traceMainThreads(
  browser: Browser,
  pages: Record<string, Page>,
  work: () => Promise<unknown>,
): Promise<MainThreadSummary[]> {
  const first = Object.values(pages)[0] as Page;
  await browser.startTracing(first, { categories: CATEGORIES });
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const buffer = await browser.stopTracing();
  const { traceEvents } = JSON.parse(buffer.toString()) as { traceEvents: TraceEvent[] };
  // Which renderer process shows which page: by the URLs of the frames it committed.
  const pidOf = new Map<string, number>();
  const urls = Object.fromEntries(Object.entries(pages).map(([label, page]) => [label, page.url()]));
  for (const event of traceEvents) {
    const frames = event.args?.data?.frames ?? [];
    for (const frame of frames)
      for (const [label, url] of Object.entries(urls))
        if (frame.url === url && frame.processId !== undefined) pidOf.set(label, frame.processId);
  }
  const mains = new Map<number, number>();
  for (const event of traceEvents)
    if (event.ph === 'M' && event.name === 'thread_name' && event.args?.name === 'CrRendererMain')
      mains.set(event.pid, event.tid);
  // A page missing from the trace's frame list (Playwright traces one page's target): the one renderer left.
  const left = [...mains.keys()].filter((pid) => ![...pidOf.values()].includes(pid));
  const missing = Object.keys(pages).filter((label) => !pidOf.has(label));
  if (missing.length === 1 && left.length === 1) pidOf.set(missing[0] as string, left[0] as number);
  return Object.keys(pages).map((label) => {
    const pid = pidOf.get(label);
    const tid = pid === undefined ? undefined : mains.get(pid);
    const events = traceEvents
      .filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur !== undefined)
      .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const self = new Map<string, number>();
    const stack: { end: number; name: string }[] = [];
    const longest: number[] = [];
    const tops: { dur: number; self: Map<string, number> }[] = [];
    let busy = 0;
    for (const event of events) {
      const end = event.ts + (event.dur as number);
      while (stack.length > 0 && (stack[stack.length - 1] as { end: number }).end <= event.ts) stack.pop();
      const parent = stack[stack.length - 1];
      const dur = (event.dur as number) / 1000;
      if (!parent) {
        busy += event.dur as number;
        longest.push(dur);
        tops.push({ dur, self: new Map() });
      }
      const top = (tops[tops.length - 1] as { self: Map<string, number> }).self;
      for (const map of [self, top]) {
        if (parent) map.set(parent.name, (map.get(parent.name) ?? 0) - dur);
        map.set(event.name, (map.get(event.name) ?? 0) + dur);
      }
      stack.push({ end, name: event.name });
    }
    longest.sort((a, b) => b - a);
    tops.sort((a, b) => b.dur - a.dur);
    const insideLongest = tops.slice(0, 3).map((top) => [...top.self].sort((a, b) => b[1] - a[1]).slice(0, 8));
    return {
      label,
      busyPercent: busy / 1000 / wallMs / 0.01,
      self: [...self].sort((a, b) => b[1] - a[1]),
      longest: longest.slice(0, 10),
      insideLongest,
      tasks: longest.length,
    };
  });
}

export function printSummaries(title: string, summaries: MainThreadSummary[]): void {
  for (const summary of summaries) {
    console.log(
      `── trace ${title}: ${summary.label} main thread busy ${summary.busyPercent.toFixed(1)} % ` +
        `(${summary.tasks} top-level events; longest ${summary.longest.map((v) => v.toFixed(1)).join(', ')} ms) ──`,
    );
    for (const [name, value] of summary.self.slice(0, 25)) console.log(`${value.toFixed(1).padStart(8)}  ${name}`);
    for (const inside of summary.insideLongest)
      console.log(`   a long task: ${inside.map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ')}`);
  }
}
