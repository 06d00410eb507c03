/**
 * How soon a built-in kit sounds after "Enable sound" (issue 10: ≤ 300 ms): client/audio/render-kit.ts
 * in real headless Chromium (tests/helpers/kit-page), each measurement in a freshly loaded page:
 *   - renderKit, first load (kit cache emptied first): until the first pad is handed over, until
 *     every pad's every layer is, and until the render is stored in IndexedDB;
 *   - renderKit, cached (the same, a second time): read back from IndexedDB;
 *   - baselines, in the same run: every sound in its own OfflineAudioContext (renderOffline with
 *     one sound each), and with Tone.Offline, one after another, as the issue's prototype did.
 * Contenders alternate within each round. With `--pads`, also each pad's measured peak, length,
 * start and tail per layer (what the kits' levels were set from).
 *
 *   npx tsx bench/kit-render.ts [--quick] [--pads]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../tests/helpers/browser.ts';
import type { KitPage, KitReport } from '../tests/helpers/kit-page/kit-page.ts';
import { buildAndServe } from '../tests/helpers/page-server.ts';
import {
  type BenchSection,
  type BrowserBenchOptions,
  isMain,
  ms,
  runAlone,
  verdict,
  writeResults,
} from './browser-common.ts';
import { median } from './stats.ts';

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'helpers', 'kit-page');
const SAMPLE_RATE = 48_000;
const TARGET_MS = 300;

type Contender = 'first' | 'cached' | 'per-sound' | 'tone-offline';

interface Row {
  firstPadMs: number[];
  allPadsMs: number[];
  totalMs: number[];
}

export async function kitRenderBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const rounds = options.quick ? 1 : 5;
  const served = await buildAndServe(PAGE_DIR);
  let browser: Browser | null = null;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    const fresh = async () => {
      await page.goto(served.url);
      await page.waitForFunction(() => (window as unknown as { kitPage?: KitPage }).kitPage?.ready === true);
    };
    await fresh();
    const kits = await page.evaluate(() => (window as unknown as { kitPage: KitPage }).kitPage.kits());
    const results: Record<string, Record<Contender, Row>> = {};
    const reports: Record<string, KitReport> = {};
    for (const kit of kits) {
      results[kit.id] = {
        first: { firstPadMs: [], allPadsMs: [], totalMs: [] },
        cached: { firstPadMs: [], allPadsMs: [], totalMs: [] },
        'per-sound': { firstPadMs: [], allPadsMs: [], totalMs: [] },
        'tone-offline': { firstPadMs: [], allPadsMs: [], totalMs: [] },
      };
    }
    for (let round = 0; round < rounds; round++) {
      for (const kit of kits) {
        const row = results[kit.id] as Record<Contender, Row>;
        // First load, then cached, each in a fresh page (as after a reload).
        await fresh();
        await page.evaluate(() => (window as unknown as { kitPage: KitPage }).kitPage.clearCache());
        await fresh();
        const first = await page.evaluate(
          ({ id, rate }) => (window as unknown as { kitPage: KitPage }).kitPage.render(id, rate),
          { id: kit.id, rate: SAMPLE_RATE },
        );
        if (first.status.from !== 'render' || first.status.cache !== 'stored') {
          throw new Error(`${kit.id}: a first load was ${JSON.stringify(first.status)}`);
        }
        row.first.firstPadMs.push(first.status.firstPadMs);
        row.first.allPadsMs.push(first.status.allPadsMs);
        row.first.totalMs.push(first.totalMs);
        reports[kit.id] = first;
        await fresh();
        const cached = await page.evaluate(
          ({ id, rate }) => (window as unknown as { kitPage: KitPage }).kitPage.render(id, rate),
          { id: kit.id, rate: SAMPLE_RATE },
        );
        if (cached.status.from !== 'cache')
          throw new Error(`${kit.id}: a second load was ${JSON.stringify(cached.status)}`);
        row.cached.firstPadMs.push(cached.status.firstPadMs);
        row.cached.allPadsMs.push(cached.status.allPadsMs);
        row.cached.totalMs.push(cached.totalMs);
        await fresh();
        const perSound = await page.evaluate(
          ({ id, rate }) => (window as unknown as { kitPage: KitPage }).kitPage.renderOneByOne(id, rate),
          { id: kit.id, rate: SAMPLE_RATE },
        );
        row['per-sound'].totalMs.push(perSound);
        if (round < 2) {
          await fresh();
          const tone = await page.evaluate(
            ({ id, rate }) => (window as unknown as { kitPage: KitPage }).kitPage.renderToneOffline(id, rate),
            { id: kit.id, rate: SAMPLE_RATE },
          );
          row['tone-offline'].totalMs.push(tone);
        }
      }
    }
    writeResults('kit-render', { results, reports });
    const med = (values: number[]) => (values.length === 0 ? Number.NaN : median(values));
    const lines = kits.map((kit) => {
      const r = results[kit.id] as Record<Contender, Row>;
      return `| ${kit.name} | ${ms(med(r.first.firstPadMs), 0)} | ${ms(med(r.first.allPadsMs), 0)} | ${ms(med(r.first.totalMs), 0)} | ${ms(med(r.cached.firstPadMs), 0)} | ${ms(med(r.cached.allPadsMs), 0)} | ${ms(med(r['per-sound'].totalMs), 0)} | ${ms(med(r['tone-offline'].totalMs), 0)} |`;
    });
    const worstFirst = Math.max(...kits.map((kit) => med(results[kit.id]?.first.firstPadMs ?? [])));
    const worstCached = Math.max(...kits.map((kit) => med(results[kit.id]?.cached.firstPadMs ?? [])));
    let markdown = `## Built-in kits: from "Enable sound" to sound

\`npx tsx bench/kit-render.ts\`: client/audio/render-kit.ts in headless Chromium at ${SAMPLE_RATE} Hz, every
measurement in a freshly loaded page, medians of ${rounds} rounds (Tone.Offline: of ${Math.min(rounds, 2)}), ms.
"First load" empties the kit cache first; "cached" is the next load. A pad is playable when it is handed
over (its loudest layer first; its softer layers come with the last render).

| kit | first load: first pad | all layers | + stored | cached: first pad | all pads | a context per sound | Tone.Offline per sound |
|---|---|---|---|---|---|---|---|
${lines.join('\n')}

Target ≤ ${TARGET_MS} ms to the first pad: first load ${verdict(worstFirst, TARGET_MS, 'ms', 0)}; cached ${verdict(worstCached, TARGET_MS, 'ms', 0)} (the slowest kit).
`;
    if (process.argv.includes('--pads')) markdown += padTable(kits, reports);
    return { markdown, results: { results, reports } };
  } finally {
    await browser?.close();
    await served.close();
  }
}

function padTable(kits: { id: string; name: string }[], reports: Record<string, KitReport>): string {
  const db = (x: number) => (x > 0 ? (20 * Math.log10(x)).toFixed(1) : '-inf');
  let out =
    '\n| kit | pad | layer | peak dBFS | length ms (of) | first 0.1 ms / peak | 5 ms before the end fade, dBFS | brightness |\n|---|---|---|---|---|---|---|---|\n';
  for (const kit of kits) {
    const report = reports[kit.id];
    if (!report) continue;
    for (const pad of report.pads) {
      for (const layer of pad.layers) {
        out += `| ${kit.name} | ${pad.name} | ${layer.velocity} | ${db(layer.peak)} | ${((layer.length / report.sampleRate) * 1000).toFixed(0)} (${((pad.renderLength / report.sampleRate) * 1000).toFixed(0)}) | ${(layer.startMax / layer.peak).toFixed(3)} | ${db(layer.endMax)} | ${layer.brightness.toFixed(4)} |\n`;
      }
    }
  }
  return out;
}

if (isMain(import.meta.url)) await runAlone('kit-render', kitRenderBenchmark);
