/**
 * Where pages' main threads spend their time during some work, from a Chromium trace (CDP Tracing through
 * Playwright's `browser.startTracing`): per page, the main thread's self time by trace event name
 * (`FunctionCall`, `TimerFire`, `FireAnimationFrame`, `UpdateLayoutTree`, `Paint`, `MinorGC`, …), the
 * longest tasks, and the share of the wall time it was busy. Used by `bench/hit-path.ts --single-only N --trace`.
 * And `traceTimeline`: pages' main threads as timelines of their top-level tasks beside the marks the pages made
 * (`bench/hit-path.ts --startup-only N --startup-trace`).
 */
import { writeFileSync } from 'node:fs';
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

interface TimelineEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: {
    data?: { message?: string; url?: string; functionName?: string; lineNumber?: number; type?: string };
    fileName?: string;
  };
}

/** What one trace event was, in a few words (the event's name, and the script, function or DOM event it ran). */
function describe(event: TimelineEvent): string {
  const data = event.args?.data;
  const file = (url: string | undefined) => (url ? (url.split('/').pop() ?? url) : '');
  switch (event.name) {
    case 'EvaluateScript':
      return `EvaluateScript ${file(data?.url)}`;
    case 'v8.compile':
    case 'v8.compileModule':
      return `${event.name} ${file(data?.url ?? event.args?.fileName)}`;
    case 'FunctionCall':
      return `FunctionCall ${data?.functionName || '(anon)'}@${file(data?.url)}:${data?.lineNumber ?? '?'}`;
    case 'EventDispatch':
      return `EventDispatch ${data?.type ?? ''}`;
    default:
      return event.name;
  }
}

/**
 * Traces the browser while `work` runs; then prints each labelled page's main thread as a timeline of its
 * top-level tasks (start and length in ms after `origin`, and what took the time inside each), with the
 * `console.timeStamp` marks pages made in between. A page's main thread is the one that made the first
 * mark starting with its label and a dot. `origin(trace)` gives time zero in trace µs, from the marks.
 */
export async function traceTimeline(
  browser: Browser,
  page: Page,
  labels: string[],
  work: () => Promise<unknown>,
  origin: (markTs: Map<string, number>) => number,
  minMs = 0.3,
): Promise<void> {
  await browser.startTracing(page, { categories: CATEGORIES });
  try {
    await work();
  } finally {
    const buffer = await browser.stopTracing();
    if (process.env.PADMESH_TRACE_FILE) writeFileSync(process.env.PADMESH_TRACE_FILE, buffer);
    const { traceEvents } = JSON.parse(buffer.toString()) as { traceEvents: TimelineEvent[] };
    const markTs = new Map<string, number>();
    const threadOf = new Map<string, string>();
    const marks: { ts: number; thread: string; text: string }[] = [];
    for (const event of traceEvents) {
      const text = event.name === 'TimeStamp' ? event.args?.data?.message : undefined;
      if (!text) continue;
      if (!markTs.has(text)) markTs.set(text, event.ts);
      const thread = `${event.pid}:${event.tid}`;
      const label = labels.find((l) => text.startsWith(`${l}.`));
      if (label && !threadOf.has(label)) threadOf.set(label, thread);
      marks.push({ ts: event.ts, thread, text });
    }
    const zero = origin(markTs);
    const at = (ts: number) => ((ts - zero) / 1000).toFixed(1).padStart(7);
    for (const label of labels) {
      const thread = threadOf.get(label);
      console.log(`── ${label} main thread (ms after the phone's navigation start) ──`);
      if (!thread) continue;
      const events = traceEvents
        .filter((e) => `${e.pid}:${e.tid}` === thread && e.ph === 'X' && e.dur !== undefined && e.ts >= zero - 50_000)
        .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
      const lines: { ts: number; text: string }[] = marks
        .filter((m) => m.thread === thread && m.ts >= zero - 50_000)
        .map((m) => ({ ts: m.ts, text: `${at(m.ts)}          ◆ ${m.text}` }));
      let top: { ts: number; end: number; self: Map<string, number> } | undefined;
      const stack: { end: number; key: string }[] = [];
      const flush = () => {
        if (!top) return;
        const dur = (top.end - top.ts) / 1000;
        if (dur >= minMs) {
          const inside = [...top.self]
            .filter(([, v]) => v >= 0.2)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 6)
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', ');
          lines.push({ ts: top.ts, text: `${at(top.ts)} ${dur.toFixed(1).padStart(6)}  ${inside}` });
        }
      };
      for (const event of events) {
        const end = event.ts + (event.dur as number);
        while (stack.length > 0 && (stack[stack.length - 1] as { end: number }).end <= event.ts) stack.pop();
        const parent = stack[stack.length - 1];
        if (!parent) {
          flush();
          top = { ts: event.ts, end, self: new Map() };
        }
        const self = (top as { self: Map<string, number> }).self;
        const key = describe(event);
        const dur = (event.dur as number) / 1000;
        if (parent) self.set(parent.key, (self.get(parent.key) ?? 0) - dur);
        self.set(key, (self.get(key) ?? 0) + dur);
        stack.push({ end, key });
      }
      flush();
      for (const line of lines.sort((a, b) => a.ts - b.ts)) console.log(line.text);
    }
  }
}
