/**
 * Keeps a phone's screen on during a jam (a dark screen takes no taps) with the Screen Wake Lock
 * API, where there is one: only in a secure context (the page over https: `npm start --
 * --https`), and only in browsers that have it (Safari from 16.4, Chrome from 84, Firefox from
 * 126). The browser drops the lock whenever the page is hidden, so it is asked for again each
 * time the page is shown. Everything is feature-detected: on plain http the page works as before
 * and says the screen may sleep.
 */
import { createSignal, onCleanup } from 'solid-js';

/**
 * - `asking`: a request is under way (or the page is hidden and will ask when shown)
 * - `on`: the screen stays awake
 * - `insecure`: plain http, where browsers offer no wake lock
 * - `unsupported`: a secure page in a browser without the API
 * - `refused`: the browser said no (permission, battery saver, not visible)
 */
export type ScreenAwakeState = 'asking' | 'on' | 'insecure' | 'unsupported' | 'refused';

/** What the phone page says for each state; '' when there is nothing to say. */
export const SCREEN_AWAKE_TEXT: Record<ScreenAwakeState, string> = {
  asking: '',
  on: '',
  insecure: 'Screen may sleep: plain http cannot keep it awake (ask for the https link).',
  unsupported: 'Screen may sleep: this browser cannot keep it awake.',
  refused: 'Screen may sleep: the browser refused to keep it awake.',
};

/** The part of `navigator` this needs, absent in browsers without the API. */
interface WakeLockNavigator {
  wakeLock?: { request(type: 'screen'): Promise<WakeLockSentinel> };
}

/**
 * Holds a screen wake lock from now until the component's cleanup (the end of the jam), asking
 * again each time the page is shown. Returns the state, as a Solid accessor.
 */
export function createScreenAwake(): () => ScreenAwakeState {
  const wakeLock = (navigator as WakeLockNavigator).wakeLock;
  const initial: ScreenAwakeState = !window.isSecureContext
    ? 'insecure'
    : typeof wakeLock?.request !== 'function'
      ? 'unsupported'
      : 'asking';
  const [state, setState] = createSignal<ScreenAwakeState>(initial);
  if (initial !== 'asking' || wakeLock === undefined) return state;

  let sentinel: WakeLockSentinel | null = null;
  let requesting = false;
  let stopped = false;
  const acquire = (): void => {
    if (stopped || requesting || sentinel !== null || document.visibilityState !== 'visible') return;
    requesting = true;
    setState('asking');
    wakeLock.request('screen').then(
      (lock) => {
        requesting = false;
        if (stopped) {
          void lock.release();
          return;
        }
        sentinel = lock;
        setState('on');
        // Released by the browser: the page hidden (asked for again when shown), or while shown (battery
        // saver): asked for again at once, so the page says so if it is refused rather than staying silent.
        lock.addEventListener('release', () => {
          if (sentinel === lock) sentinel = null;
          if (stopped) return;
          setState('asking');
          acquire();
        });
      },
      () => {
        requesting = false;
        if (!stopped) setState('refused');
      },
    );
  };
  const onVisibility = (): void => acquire();
  document.addEventListener('visibilitychange', onVisibility);
  acquire();
  onCleanup(() => {
    stopped = true;
    document.removeEventListener('visibilitychange', onVisibility);
    void sentinel?.release();
    sentinel = null;
  });
  return state;
}
