/**
 * The DAW's jam: hits from every controller (P2P or relay) and from this computer's keys
 * and mouse go to the drum engine at once, then light the pad; the numbers the page shows
 * (per-member stats, per-pad counts, the recent-hits list) are brought up to date once per
 * frame, off the hit path.
 */
import { onCleanup } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import type { DrumEngine } from '../audio/engine.ts';
import { KIT } from '../audio/kit.ts';
import { DawPeers, type PeerStats, type Via } from '../net/daw-peers.ts';
import type { Signaling } from '../net/signaling.ts';

export const RECENT_HITS = 24;

export interface RecentHit {
  /** Increasing id, for keyed rendering. */
  n: number;
  /** Controller peerId, or null for this computer. */
  peerId: string | null;
  pad: number;
  velocity: number;
  via: Via | 'local';
  /** Arrival minus tap time (ms): a one-way delay only where both clocks agree. */
  delayMs: number | null;
}

export interface JamView {
  stats: Record<string, PeerStats | undefined>;
  padHits: number[];
  recent: RecentHit[];
  /** Voices the engine has started: every hit played, from anywhere. */
  triggered: number;
}

const FLASH: Keyframe[] = [
  { filter: 'brightness(2.2)', transform: 'scale(0.95)' },
  { filter: 'brightness(1)', transform: 'scale(1)' },
];
const FLASH_TIMING: KeyframeAnimationOptions = { duration: 160, easing: 'ease-out' };

export function createDawJam(signaling: () => Signaling, engine: DrumEngine) {
  const [view, setView] = createStore<JamView>({
    stats: {},
    padHits: KIT.map(() => 0),
    recent: [],
    triggered: 0,
  });
  const padElements: (HTMLElement | undefined)[] = [];
  const padHits = KIT.map(() => 0);
  const dirtyStats = new Set<string>();
  let recent: RecentHit[] = [];
  let hitNumber = 0;
  let frame = 0;

  const later = () => {
    if (frame === 0) frame = requestAnimationFrame(render);
  };

  function play(peerId: string | null, pad: number, velocity: number, via: RecentHit['via'], delayMs: number | null) {
    engine.trigger(pad, velocity / 127); // the sound first; everything else can wait a frame
    padElements[pad]?.animate(FLASH, FLASH_TIMING);
    if (pad < padHits.length) padHits[pad] = (padHits[pad] as number) + 1;
    hitNumber += 1;
    recent.push({ n: hitNumber, peerId, pad, velocity, via, delayMs });
    if (recent.length > RECENT_HITS * 2) recent = recent.slice(-RECENT_HITS);
    later();
  }

  function render() {
    frame = 0;
    for (const peerId of dirtyStats) {
      const stats = peers.stats(peerId);
      if (stats) setView('stats', peerId, { ...stats });
    }
    dirtyStats.clear();
    setView('padHits', reconcile([...padHits]));
    setView('triggered', engine.triggered);
    setView('recent', reconcile(recent.slice(-RECENT_HITS).reverse(), { key: 'n' }));
  }

  const peers = new DawPeers({
    iceServers: () => signaling().welcome?.iceServers ?? [],
    sendSignal: (to, data) => signaling().send({ type: 'signal', to, data }),
    onHit: (peerId, pad, velocity, delayMs, via) => play(peerId, pad, velocity, via, delayMs),
    onChange: (peerId) => {
      dirtyStats.add(peerId);
      later();
    },
  });

  onCleanup(() => {
    cancelAnimationFrame(frame);
    peers.destroy();
  });

  return {
    view,
    peers,
    padElements,
    /** A pad played on this computer (keys or mouse). */
    playLocal: (pad: number, velocity: number) => play(null, pad, velocity, 'local', null),
    forget: (peerId: string) => {
      peers.remove(peerId);
      setView('stats', peerId, undefined);
    },
    /** After our socket reconnected: forget controllers that left meanwhile (see DawPeers.keepOnly). */
    keepOnly: (peerIds: ReadonlySet<string>) => {
      for (const peerId of peers.keepOnly(peerIds)) setView('stats', peerId, undefined);
    },
  };
}
