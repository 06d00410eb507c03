/**
 * The controller's P2P connection to the DAW as a pure state machine: events in, effects
 * out, no timers or WebRTC inside, so every path (open, timeout, failure, DAW reload,
 * backoff) is unit-tested with plain calls. controller-link.ts carries out the effects.
 *
 *   idle ──DAW present──► connecting ──channel open──► open
 *                          │  ▲                          │
 *          timeout/failed  ▼  │ retry (backoff)          │ closed/failed/silent
 *                         waiting ◄──────────────────────┘
 *
 * Hits never wait for this machine: whenever the channel is not open they go through the
 * socket's relay. An open channel outlives the signaling socket and the DAW's presence (a
 * signal-server restart must not stop the jam); only the channel itself can end it.
 */

export type LinkState =
  /** No DAW to connect to. */
  | { kind: 'idle' }
  /** A peer connection is being made (attempt 1 is the first since the DAW appeared). */
  | { kind: 'connecting'; attempt: number }
  /** The data channel is open: hits go P2P. */
  | { kind: 'open' }
  /** P2P failed; hits go through the relay; the next attempt is armed (if the DAW is present). */
  | { kind: 'waiting'; attempt: number };

export type LinkEvent =
  /** The DAW is (or is no longer) connected to the signal server, so an offer can (or cannot) reach it. */
  | { type: 'daw'; present: boolean }
  | { type: 'open' }
  /** The channel closed, errored, or went silent; or the connection could not be made. */
  | { type: 'failed' }
  /** The armed timer fired: the open timeout while connecting, the backoff while waiting. */
  | { type: 'timer' }
  | { type: 'stop' };

export type LinkEffect = { type: 'connect' } | { type: 'teardown' } | { type: 'arm'; ms: number } | { type: 'disarm' };

export interface LinkTiming {
  /** A channel not open this long after the attempt began is given up (hits are on the relay meanwhile). */
  openTimeoutMs: number;
  /** Backoff before attempt n+1: about baseMs · 2^(n−1), capped, with equal jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  random: () => number;
}

export const DEFAULT_LINK_TIMING: LinkTiming = {
  openTimeoutMs: 3_000,
  retryBaseMs: 1_000,
  retryMaxMs: 15_000,
  random: Math.random,
};

export function retryDelayMs(attempt: number, timing: LinkTiming): number {
  const ceiling = Math.min(timing.retryMaxMs, timing.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (timing.random() * ceiling) / 2);
}

// TypeScript `private`, as in controller-link.ts: no WeakMaps from lowering on phones.
export class LinkMachine {
  private current: LinkState = { kind: 'idle' };
  private dawPresent = false;
  private readonly timing: LinkTiming;

  constructor(timing: Partial<LinkTiming> = {}) {
    this.timing = { ...DEFAULT_LINK_TIMING, ...timing };
  }

  get state(): LinkState {
    return this.current;
  }

  dispatch(event: LinkEvent): LinkEffect[] {
    const state = this.current;
    switch (event.type) {
      case 'daw': {
        const appeared = event.present && !this.dawPresent;
        this.dawPresent = event.present;
        // The DAW (re)appearing is the moment an offer can succeed (a DAW reload ends here):
        // start over at once, whatever backoff was pending. An open channel needs nothing.
        if (appeared && state.kind !== 'open') return this.connect(1, state.kind === 'connecting');
        if (!event.present && state.kind === 'connecting') {
          // The offer went to a DAW that has gone; wait for it to come back.
          this.current = { kind: 'waiting', attempt: state.attempt };
          return [{ type: 'teardown' }, { type: 'disarm' }];
        }
        return [];
      }
      case 'open':
        if (state.kind !== 'connecting') return [];
        this.current = { kind: 'open' };
        return [{ type: 'disarm' }];
      case 'failed':
        if (state.kind === 'open') return this.wait(1);
        if (state.kind === 'connecting') return this.wait(state.attempt);
        return [];
      case 'timer':
        if (state.kind === 'connecting') return this.wait(state.attempt);
        if (state.kind === 'waiting' && this.dawPresent) return this.connect(state.attempt + 1, false);
        return [];
      case 'stop':
        this.dawPresent = false;
        if (state.kind === 'idle') return [];
        this.current = { kind: 'idle' };
        return [{ type: 'teardown' }, { type: 'disarm' }];
    }
  }

  private connect(attempt: number, tearDownFirst: boolean): LinkEffect[] {
    this.current = { kind: 'connecting', attempt };
    const effects: LinkEffect[] = tearDownFirst ? [{ type: 'teardown' }] : [];
    effects.push({ type: 'connect' }, { type: 'arm', ms: this.timing.openTimeoutMs });
    return effects;
  }

  /** Gives up the current connection; the next attempt is armed only if it can reach the DAW. */
  private wait(attempt: number): LinkEffect[] {
    this.current = { kind: 'waiting', attempt };
    const effects: LinkEffect[] = [{ type: 'teardown' }];
    effects.push(this.dawPresent ? { type: 'arm', ms: retryDelayMs(attempt, this.timing) } : { type: 'disarm' });
    return effects;
  }
}
