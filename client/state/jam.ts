/**
 * The DAW's jam: hits from every controller (P2P or relay) and from this computer's keys
 * and mouse go to the drum engine at once, then light the pad (at the next frame); the numbers
 * the page shows (per-member stats, per-pad counts, the recent-hits list) are brought up to
 * date a few times a second, off the hit path.
 */
import { batch, onCleanup } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { DrumEngine } from '../audio/engine.ts';
import { KIT } from '../audio/kit.ts';
import { startMetronome } from '../audio/metronome.ts';
import type { MidiOut } from '../midi/midi-out.ts';
import { DawPeers, type HitEvent, type PeerStats, type PlayMode, type Via } from '../net/daw-peers.ts';
import { type Tempo, wallClock } from '../net/hits.ts';
import type { Signaling } from '../net/signaling.ts';
import type { HitRecorder } from './hit-recorder.ts';
import { initialTempo, withBeatsPerBar, withBpm, withRunning } from './tempo-changes.ts';

/**
 * Hits the DAW's list shows: as many as its box (360 px, client/src/styles.css) holds. It held 24,
 * of which the last 8 were laid out and drawn at every redraw, but clipped.
 */
export const RECENT_HITS = 16;
/**
 * How often the member numbers, pad counts and the hit list are redrawn while hits come in. Each
 * redraw lays out and paints part of the page: at 200 hits/s from one phone, redrawing them 10
 * times a second kept the DAW's main thread busy 2–3 × as long as a bare data channel's page
 * (bench/hit-path.ts), and an arriving hit waits out whatever task is running.
 */
const NUMBERS_MS = 250;
/**
 * How long a hit lights its pad (a class on the pad, `lit`, taken off by a timer): a hit while it is
 * lit keeps it lit that much longer. An animated fade (a Web Animation per pad, even reused and
 * run by the compositor) needed the main thread at every frame while any pad faded, which at one
 * phone × 200 hits/s was every frame: the DAW's main thread was busy up to half as long again as
 * without flashes (bench/hit-path.ts `--single-only`). Lit and unlit, a pad costs two frames.
 */
const FLASH_MS = 100;
/** A steady hit the engine had to start this much after its planned time counts as late. */
const LATE_AUDIO_S = 0.0005;

export interface RecentHit {
  /** Increasing id, for keyed rendering. */
  n: number;
  /** Controller peerId, or null for this computer. */
  peerId: string | null;
  pad: number;
  velocity: number;
  via: Via | 'local';
  /** Arrival minus tap time (ms), in the DAW's clock once synced (see HitEvent.delayMs). */
  delayMs: number | null;
  /** Steady mode: scheduled this many ms after arrival (0: played at once). */
  heldMs: number;
  /** Steady mode: too late for the window, played at once. */
  late: boolean;
}

export interface JamView {
  stats: Record<string, PeerStats | undefined>;
  padHits: number[];
  recent: RecentHit[];
  /** Voices the engine has started: every hit played, from anywhere. */
  triggered: number;
  mode: PlayMode;
  tempo: Tempo;
  metronome: boolean;
}

export interface DawJamOptions {
  /** Records every controller hit played (hit-recorder.ts), for benchmarks and curious players. */
  recorder?: HitRecorder | null;
  /** Every hit also goes out as MIDI (client/midi/midi-out.ts). */
  midi?: Pick<MidiOut, 'hit'> | null;
  /** The Record button's take (recording/recording.ts): told each hit played, its tap time on our clock. */
  take?: { hit(peerId: string | null, pad: number, velocity: number, tapAt: number, arrivedAt: number): void } | null;
  /** The room's tempo to start from (the server keeps it across DAW reloads). */
  bpm?: number;
  /** Told when the tempo changes, to keep the room state's tempo in step. */
  onTempo?(tempo: Tempo): void;
}

export function createDawJam(signaling: () => Signaling, engine: DrumEngine, options: DawJamOptions = {}) {
  const recorder = options.recorder ?? null;
  const midi = options.midi ?? null;
  const take = options.take ?? null;
  let mode: PlayMode = 'instant';
  let tempo = initialTempo(wallClock(), options.bpm);
  let metronome = false;
  const [view, setView] = createStore<JamView>({
    stats: {},
    padHits: KIT.map(() => 0),
    recent: [],
    triggered: 0,
    mode,
    tempo,
    metronome,
  });
  const padElements: (HTMLElement | undefined)[] = [];
  /** Per pad: the element lit now (the pads may be made anew), else undefined. */
  const litElements: (HTMLElement | undefined)[] = [];
  /** Per pad: when its light goes off, NaN when it is not lit. */
  const litUntil = new Float64Array(KIT.length).fill(Number.NaN);
  let lightsTimer: ReturnType<typeof setTimeout> | undefined;
  let lightsDue = Number.POSITIVE_INFINITY;
  const padHits = KIT.map(() => 0);
  /** Per pad: when its next flash should start (steady hits light when they sound), NaN for none. */
  const flashAt = new Float64Array(KIT.length).fill(Number.NaN);
  const dirtyStats = new Set<string>();
  let recent: RecentHit[] = [];
  let hitNumber = 0;
  let frame = 0;

  /** A hidden tab runs no animation frames: its numbers are kept up to date by this timer instead. */
  let hiddenTimer: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    if (frame !== 0 || hiddenTimer !== undefined) return;
    if (document.hidden) hiddenTimer = setTimeout(render, NUMBERS_MS);
    else frame = requestAnimationFrame(render);
  };
  // Hidden, a frame asked for may never come: a timer takes its place. Shown again, the view is
  // brought up to date at once (browsers run a background tab's timers once a second, or less).
  const onVisibility = () => {
    if (frame === 0 && hiddenTimer === undefined) return;
    cancelAnimationFrame(frame);
    clearTimeout(hiddenTimer);
    frame = 0;
    hiddenTimer = undefined;
    if (document.hidden) later();
    else render();
  };
  document.addEventListener('visibilitychange', onVisibility);
  let numbersAt = Number.NEGATIVE_INFINITY;
  let numbersDue = false;
  /** A hit came since the list was last taken to draw; the list is to be drawn at the next frame (the one after the numbers'). */
  let listChanged = false;
  let listDue = false;
  let numbersTimer: ReturnType<typeof setTimeout> | undefined;
  const renderLater = () => {
    numbersTimer = undefined;
    if (numbersDue) later();
  };
  /** The numbers or the list changed: redrawn at the first frame NUMBERS_MS after the last redraw (no frame sooner). */
  const numbersLater = () => {
    if (numbersDue) return;
    numbersDue = true;
    const wait = NUMBERS_MS - (wallClock() - numbersAt);
    if (wait <= 0) later();
    else if (numbersTimer === undefined) numbersTimer = setTimeout(renderLater, wait);
  };

  /** Each controller's number for the engine (its `owner`), and back: numbers are never reused. */
  const owners = new Map<string, number>();
  const ownerPeers: string[] = [];
  /** Per owner: the engine slot of its pad 0 (its part's bank × 16; 0, the drum kit, unless told). */
  const slotBases: number[] = [];
  const ownerOf = (peerId: string): number => {
    let owner = owners.get(peerId);
    if (owner === undefined) {
      owner = ownerPeers.push(peerId) - 1; // once per controller
      owners.set(peerId, owner);
      slotBases.push(0);
    }
    return owner;
  };

  /** A controller's hit: at once, or (steady mode) at its planned time on the audio clock. */
  function playHit(hit: Readonly<HitEvent>) {
    const scheduled = !Number.isNaN(hit.playAt);
    const when = scheduled ? engine.contextTimeAt(hit.playAt) : Number.NaN;
    const owner = ownerOf(hit.peerId);
    const slot = (slotBases[owner] ?? 0) + hit.pad;
    const played = engine.trigger(slot, hit.velocity / 127, scheduled ? when : undefined, owner);
    // The sound is handed over; everything else can wait (and may allocate).
    const overbooked = engine.overbooked;
    if (overbooked !== null) {
      // Too many of this player's hits planned ahead (or the sampler's ring full): this one is not played.
      const peerId = ownerPeers[overbooked];
      if (peerId !== undefined) {
        peers.countOverbooked(peerId);
        dirtyStats.add(peerId);
      }
    }
    // Planned in time, but the audio clock had already passed it: late all the same.
    const lateForAudio = scheduled && played && engine.lastStartTime > when + LATE_AUDIO_S;
    if (lateForAudio) peers.countLate(hit.peerId);
    if (recorder) {
      const audioAt = played ? engine.lastStartTime * 1000 : Number.NaN;
      recorder.record(hit, audioAt, hit.late || lateForAudio, when * 1000, engine.currentTime * 1000);
    }
    if (!played && overbooked === owner) return; // it gave way: nothing sounds, nothing lights, nothing goes out
    midi?.hit(hit.peerId, hit.pad, hit.velocity, hit.playAt);
    take?.hit(hit.peerId, hit.pad, hit.velocity, hit.tapAt, hit.arrivedAt);
    const heldMs = scheduled && !lateForAudio ? Math.max(0, hit.playAt - hit.arrivedAt) : 0;
    after(hit.peerId, hit.pad, hit.velocity, hit.via, hit.delayMs, heldMs, hit.late || lateForAudio);
  }

  function play(peerId: string | null, pad: number, velocity: number, via: RecentHit['via'], delayMs: number | null) {
    engine.trigger(pad, velocity / 127); // the sound first; everything else can wait a frame
    midi?.hit(null, pad, velocity, Number.NaN);
    take?.hit(peerId, pad, velocity, wallClock(), Number.NaN);
    after(peerId, pad, velocity, via, delayMs, 0, false);
  }

  function after(
    peerId: string | null,
    pad: number,
    velocity: number,
    via: RecentHit['via'],
    delayMs: number | null,
    heldMs: number,
    late: boolean,
  ) {
    if (pad < padHits.length) {
      padHits[pad] = (padHits[pad] as number) + 1;
      const now = wallClock();
      if (heldMs === 0 && litElements[pad] !== undefined && litElements[pad] === padElements[pad]) {
        litUntil[pad] = now + FLASH_MS; // lit already: it stays lit longer, and there is nothing to draw
      } else {
        // The flash waits for the frame (the screen shows nothing sooner): one per pad per frame, however many hits.
        const at = now + heldMs;
        if (!((flashAt[pad] as number) <= at)) flashAt[pad] = at;
        later();
      }
    }
    hitNumber += 1;
    recent.push({ n: hitNumber, peerId, pad, velocity, via, delayMs, heldMs, late });
    listChanged = true;
    if (recent.length > RECENT_HITS * 2) recent = recent.slice(-RECENT_HITS);
    numbersLater();
  }

  function render() {
    frame = 0;
    clearTimeout(hiddenTimer);
    hiddenTimer = undefined;
    const now = wallClock();
    lights(now);
    // The list waits for the frame after the numbers': a hit arriving meanwhile waits out one
    // frame's drawing, never both at once (their one task was the DAW's longest under hits).
    if (listDue) {
      listDue = false;
      // Row by row, each merged into the row at its place (a copy: the store then owns what it changes), so only
      // the fields that changed are redrawn. Solid's `reconcile` would do as much, but its code would then be in
      // the chunk the phones load too.
      const rows = recent.slice(-RECENT_HITS).reverse();
      batch(() => {
        for (let row = 0; row < rows.length; row++) setView('recent', row, { ...(rows[row] as RecentHit) });
      });
    }
    // The numbers and the list a few times a second, not every frame: a busy main thread is
    // time a hit arriving now waits before it can be played.
    if (!numbersDue) return;
    if (now - numbersAt < NUMBERS_MS) {
      if (numbersTimer === undefined) numbersTimer = setTimeout(renderLater, NUMBERS_MS - (now - numbersAt));
      return;
    }
    numbersAt = now;
    numbersDue = false;
    batch(() => {
      for (const peerId of dirtyStats) {
        const stats = peers.stats(peerId);
        if (stats) setView('stats', peerId, { ...stats });
      }
      for (let pad = 0; pad < padHits.length; pad++) setView('padHits', pad, padHits[pad] as number); // same: no redraw
      setView('triggered', engine.triggered);
    });
    dirtyStats.clear();
    // A redraw for stats alone (timing reports, round trips) leaves the list, and its frame, out.
    listDue = listChanged;
    listChanged = false;
    if (!listDue) return;
    // A hidden page has no frames to share the drawing out over (and draws nothing anyway).
    if (document.hidden) render();
    else later();
  }

  /**
   * Lights the pads whose hits are due (steady hits light when they sound), puts out those whose
   * time is over, and sets the timer for the next change. At an animation frame, or by that timer.
   */
  function lights(now: number) {
    let next = Number.POSITIVE_INFINITY;
    for (let pad = 0; pad < flashAt.length; pad++) {
      const at = flashAt[pad] as number;
      if (at <= now + 1) {
        flashAt[pad] = Number.NaN;
        litUntil[pad] = now + FLASH_MS;
        const element = padElements[pad];
        if (element !== litElements[pad]) {
          litElements[pad]?.classList.remove('lit');
          element?.classList.add('lit');
          litElements[pad] = element;
        }
      } else if (at < next) next = at;
      const until = litUntil[pad] as number;
      if (until <= now) {
        litUntil[pad] = Number.NaN;
        litElements[pad]?.classList.remove('lit');
        litElements[pad] = undefined;
      } else if (until < next) next = until;
    }
    if (next === Number.POSITIVE_INFINITY || next >= lightsDue) return;
    clearTimeout(lightsTimer);
    lightsDue = next;
    lightsTimer = setTimeout(onLightsTimer, Math.max(0, next - now));
  }
  const onLightsTimer = () => {
    lightsTimer = undefined;
    lightsDue = Number.POSITIVE_INFINITY;
    lights(wallClock());
  };

  const peers = new DawPeers({
    iceServers: () => signaling().welcome?.iceServers ?? [],
    sendSignal: (to, data) => signaling().send({ type: 'signal', to, data }),
    sendRelay: (to, data) => signaling().sendNow({ type: 'relay', to, data }),
    onHit: playHit,
    onChange: (peerId) => {
      dirtyStats.add(peerId);
      numbersLater();
    },
    mode: () => mode,
    tempo: () => tempo,
    outputLatencyMs: () => engine.outputLatencyMs(),
  });
  // A voice taken from the player sounding the most, on the audio thread: counted where they see it.
  const stopGaveWay = engine.onGaveWay((owner, count) => {
    const peerId = ownerPeers[owner];
    if (peerId === undefined) return;
    peers.countCutShort(peerId, count);
    dirtyStats.add(peerId);
    numbersLater();
  });
  const metronomeClock = startMetronome(
    engine,
    () => tempo,
    () => metronome,
  );

  onCleanup(() => {
    cancelAnimationFrame(frame);
    clearTimeout(hiddenTimer);
    clearTimeout(lightsTimer);
    document.removeEventListener('visibilitychange', onVisibility);
    clearTimeout(numbersTimer);
    metronomeClock.stop();
    stopGaveWay();
    peers.destroy();
  });

  const changeTempo = (next: Tempo) => {
    tempo = next;
    metronomeClock.wake();
    setView('tempo', next);
    peers.sendTempo();
    options.onTempo?.(next);
  };

  return {
    view,
    peers,
    padElements,
    /** A pad played on this computer (keys or mouse). */
    playLocal: (pad: number, velocity: number) => play(null, pad, velocity, 'local', null),
    setMode: (next: PlayMode) => {
      mode = next;
      setView('mode', next);
    },
    setBpm: (bpm: number) => changeTempo(withBpm(tempo, bpm, wallClock())),
    setBeatsPerBar: (beats: number) => changeTempo(withBeatsPerBar(tempo, beats, wallClock())),
    setRunning: (running: boolean) => changeTempo(withRunning(tempo, running, wallClock())),
    setMetronome: (on: boolean) => {
      metronome = on;
      metronomeClock.wake();
      setView('metronome', on);
    },
    /** A controller joined: it learns the tempo before any channel exists. */
    greet: (peerId: string) => peers.greet(peerId),
    /** Where `peerId`'s pads are in the engine: its part's first slot (state/sound-banks.ts). */
    setSlotBase: (peerId: string, base: number) => {
      slotBases[ownerOf(peerId)] = base;
    },
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
