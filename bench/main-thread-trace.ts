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
  args?: {
    name?: string;
    fileName?: string;
    data?: {
      url?: string;
      frames?: { url?: string; processId?: number }[];
      message?: string;
      functionName?: string;
      lineNumber?: number;
      type?: string;
    };
  };
}

/** A top-level task of a thread: when it ran (trace µs), and its events' self time (ms) by `keyOf(event)`. */
interface TopTask {
  ts: number;
  end: number;
  self: Map<string, number>;
}

/**
 * A thread's complete ('X') events, in time order, as its top-level tasks: each event's self time is its
 * duration less its children's (events nest by time), added up per task under `keyOf(event)`.
 */
function topLevelTasks(events: TraceEvent[], keyOf: (event: TraceEvent) => string): TopTask[] {
  const tasks: TopTask[] = [];
  const stack: { end: number; key: string }[] = [];
  const sorted = events
    .filter((e) => e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  for (const event of sorted) {
    const end = event.ts + (event.dur as number);
    while (stack.length > 0 && (stack[stack.length - 1] as { end: number }).end <= event.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) tasks.push({ ts: event.ts, end, self: new Map() });
    const self = (tasks[tasks.length - 1] as TopTask).self;
    const key = keyOf(event);
    const dur = (event.dur as number) / 1000;
    if (parent) self.set(parent.key, (self.get(parent.key) ?? 0) - dur);
    self.set(key, (self.get(key) ?? 0) + dur);
    stack.push({ end, key });
  }
  return tasks;
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
    const tasks = topLevelTasks(
      traceEvents.filter((e) => e.pid === pid && e.tid === tid),
      (event) => event.name,
    );
    const self = new Map<string, number>();
    for (const task of tasks) for (const [key, ms] of task.self) self.set(key, (self.get(key) ?? 0) + ms);
    const busy = tasks.reduce((total, task) => total + (task.end - task.ts), 0);
    const longest = tasks.map((task) => (task.end - task.ts) / 1000).sort((a, b) => b - a);
    const insideLongest = [...tasks]
      .sort((a, b) => b.end - b.ts - (a.end - a.ts))
      .slice(0, 3)
      .map((task) => [...task.self].sort((a, b) => b[1] - a[1]).slice(0, 8));
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

/** What one trace event was, in a few words (the event's name, and the script, function or DOM event it ran). */
function describe(event: TraceEvent): string {
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
    const { traceEvents } = JSON.parse(buffer.toString()) as { traceEvents: TraceEvent[] };
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
      const lines: { ts: number; text: string }[] = marks
        .filter((m) => m.thread === thread && m.ts >= zero - 50_000)
        .map((m) => ({ ts: m.ts, text: `${at(m.ts)}          ◆ ${m.text}` }));
      const tasks = topLevelTasks(
        traceEvents.filter((e) => `${e.pid}:${e.tid}` === thread && e.ts >= zero - 50_000),
        describe,
      );
      for (const task of tasks) {
        const dur = (task.end - task.ts) / 1000;
        if (dur < minMs) continue;
        const inside = [...task.self]
          .filter(([, v]) => v >= 0.2)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ');
        lines.push({ ts: task.ts, text: `${at(task.ts)} ${dur.toFixed(1).padStart(6)}  ${inside}` });
      }
      for (const line of lines.sort((a, b) => a.ts - b.ts)) console.log(line.text);
    }
  }
}
