/**
 * The stand-ins for what Firefox's Web Audio lacks (client/audio/firefox-audio.ts) and the rule
 * that keeps a Firefox DAW from reading outputLatency (client/audio/output-readings.ts). Node has
 * no Web Audio: AudioParam and AudioContext are small stand-ins here, and say what they record.
 * The real thing runs in tests/e2e/firefox.test.ts (a Firefox DAW renders its kit and never reads it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { canSuspendOffline, ensureCancelAndHold } from '../../client/audio/firefox-audio.ts';
import { canReadOutputLatency, outputLatencyMs } from '../../client/audio/output-readings.ts';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';
const FIREFOX_ANDROID = 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const FIREFOX_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15';

const original = Object.getOwnPropertyDescriptor(globalThis, 'AudioParam');
afterEach(() => {
  if (original) Object.defineProperty(globalThis, 'AudioParam', original);
  else delete (globalThis as { AudioParam?: unknown }).AudioParam;
});

describe('AudioParam.cancelAndHoldAtTime where the browser has none', () => {
  it('is added, and cancels the events from that time on (Tone sets the held value next)', () => {
    const cancelled: number[] = [];
    class FirefoxParam {
      cancelScheduledValues(time: number) {
        cancelled.push(time);
        return this;
      }
    }
    Object.defineProperty(globalThis, 'AudioParam', { value: FirefoxParam, configurable: true, writable: true });
    ensureCancelAndHold();
    ensureCancelAndHold(); // idempotent
    const param = new FirefoxParam() as FirefoxParam & { cancelAndHoldAtTime(time: number): unknown };
    expect(param.cancelAndHoldAtTime(0.25)).toBe(param);
    expect(cancelled).toEqual([0.25]);
  });

  it('is left alone where the browser has its own', () => {
    const own = () => 'native';
    class ChromiumParam {}
    Object.defineProperty(ChromiumParam.prototype, 'cancelAndHoldAtTime', { value: own });
    Object.defineProperty(globalThis, 'AudioParam', { value: ChromiumParam, configurable: true, writable: true });
    ensureCancelAndHold();
    expect((ChromiumParam.prototype as { cancelAndHoldAtTime: unknown }).cancelAndHoldAtTime).toBe(own);
  });

  it('needs no AudioParam at all (Node, workers)', () => {
    delete (globalThis as { AudioParam?: unknown }).AudioParam;
    expect(() => ensureCancelAndHold()).not.toThrow();
  });
});

describe('an offline render that cannot suspend', () => {
  it('is told apart by the missing method', () => {
    expect(canSuspendOffline({ suspend: () => Promise.resolve() } as unknown as OfflineAudioContext)).toBe(true);
    expect(canSuspendOffline({} as OfflineAudioContext)).toBe(false);
  });
});

describe('outputLatency, never read in Firefox', () => {
  it('is readable in Chromium, Safari and Firefox on iOS (WebKit), not in Gecko', () => {
    expect(canReadOutputLatency(CHROME)).toBe(true);
    expect(canReadOutputLatency(SAFARI)).toBe(true);
    expect(canReadOutputLatency(FIREFOX_IOS)).toBe(true);
    expect(canReadOutputLatency(FIREFOX)).toBe(false);
    expect(canReadOutputLatency(FIREFOX_ANDROID)).toBe(false);
  });

  it('is not touched when it may not be read: the latency is unknown', () => {
    let reads = 0;
    const context = {
      baseLatency: 0,
      get outputLatency() {
        reads++;
        return 0.02;
      },
    } as unknown as AudioContext;
    expect(outputLatencyMs(context, false)).toBeNull();
    expect(reads).toBe(0);
    expect(outputLatencyMs(context, true)).toBe(20);
    expect(reads).toBe(1);
  });
});
