import {
  createEffect,
  createMemo,
  createResource,
  createSignal,
  For,
  on,
  onCleanup,
  onMount,
  Show,
  untrack,
} from 'solid-js';
import { DEFAULT_LIMITS } from '../../signal/limits.ts';
import { type Access, type Band, ErrorCode } from '../../signal/protocol.ts';
import { createDrumEngine } from '../audio/engine.ts';
import { DEFAULT_BAND, type InstrumentId, melodicPads, partNotes, partOf } from '../audio/instruments.ts';
import { KIT } from '../audio/kit.ts';
import { BUILT_IN_KITS } from '../audio/kits/index.ts';
import type { ScaleId } from '../audio/scales.ts';
import { AccessControls } from '../components/AccessControls.tsx';
import { BandControls } from '../components/BandControls.tsx';
import { DawPads } from '../components/DawPads.tsx';
import { EndScreen } from '../components/EndScreen.tsx';
import { HitLog } from '../components/HitLog.tsx';
import { LevelMeter } from '../components/LevelMeter.tsx';
import { MemberList } from '../components/MemberList.tsx';
import { MidiControls } from '../components/MidiControls.tsx';
import type { PadLook } from '../components/PadGrid.tsx';
import { PadSamples } from '../components/PadSamples.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { RecordControls } from '../components/RecordControls.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import { TimingControls } from '../components/TimingControls.tsx';
import { KEY_VELOCITY, padOfKey, SOFT_KEY_VELOCITY } from '../input/keys.ts';
import { MidiOut } from '../midi/midi-out.ts';
import { createMidiSession } from '../midi/midi-session.ts';
import { drumNotesFor } from '../midi/note-map.ts';
import { wallClock } from '../net/hits.ts';
import type { JoinParams, Signaling } from '../net/signaling.ts';
import { keepSpareConnection } from '../net/spare-connection.ts';
import { createRecording } from '../recording/recording.ts';
import { joinPath } from '../src/routes.ts';
import { BUILT_IN_KIT_CHOICES, type BuiltInKitId, createDawSound, type KitState } from '../state/daw-sound.ts';
import { saveDawRoom, savedDawRoom } from '../state/daw-storage.ts';
import { recorderFromUrl } from '../state/hit-recorder.ts';
import { createDawJam } from '../state/jam.ts';
import type { BuiltInLook } from '../state/kit-store.ts';
import { createSession } from '../state/session.ts';
import { deviceId } from '../state/storage.ts';

/** The electronic kit's pads as a new kit starts (audio/kits/electronic.ts: the hats choke each other). */
const BUILT_IN_LOOKS: BuiltInLook[] = KIT.map(({ id, name, color }) => ({
  name,
  color,
  chokeGroup: id === 'hat-closed' || id === 'hat-open' ? 1 : 0,
}));
const KIT_STATE_TEXT: Record<KitState, string> = {
  waiting: 'ready when sound is on',
  loading: 'loading…',
  ready: '',
  failed: 'did not load (see the console)',
};
/** Past the server's resume window every controller that is coming back is back. */
const PRUNE_AFTER_MS = DEFAULT_LIMITS.resumeWindowMs + 5_000;

/**
 * The origin phones can reach this page at. The DAW page is usually on localhost, so the
 * server tells us the laptop's LAN address, and its HTTPS port when it serves HTTPS (`npm start
 * -- --https`: phones then join over https); otherwise the port stays this page's own (in `npm
 * run dev` that is Vite's, not the signal server's).
 */
async function lanOrigin(): Promise<string> {
  const onLan = location.hostname !== 'localhost' && location.hostname !== '127.0.0.1' && location.hostname !== '[::1]';
  if (onLan) return location.origin;
  try {
    const reply = await fetch('/api/lan');
    const { hosts, httpsPort } = (await reply.json()) as { hosts?: unknown; httpsPort?: unknown };
    const [host] = Array.isArray(hosts) ? hosts : [];
    if (typeof host === 'string') {
      const hostPart = host.includes(':') ? `[${host}]` : host;
      if (typeof httpsPort === 'number' && location.protocol === 'http:') return `https://${hostPart}:${httpsPort}`;
      return `${location.protocol}//${hostPart}${location.port ? `:${location.port}` : ''}`;
    }
  } catch {
    // Fall through: show what we have.
  }
  return location.origin;
}

/**
 * The one-time certificate warning each phone shows with `--https`, and what to tap (the same
 * steps as the terminal's, signal/cli.ts, and docs/troubleshooting.md).
 */
function CertificateNote() {
  return (
    <section class="certificate-note" data-testid="certificate-note">
      <p>
        Phones join over https, so their screens stay awake during the jam. The certificate was made by this laptop, so
        each phone warns once that the connection is not private. That is expected; to go on:
      </p>
      <ul>
        <li>iPhone (Safari): “Show Details”, then “visit this website”, then “Visit Website”.</li>
        <li>Android (Chrome): “Advanced”, then “Proceed to … (unsafe)”.</li>
        <li>Firefox: “Advanced”, then “Accept the Risk and Continue”.</li>
      </ul>
    </section>
  );
}

export function DawPage(props: { navigate: (path: string) => void }) {
  const saved = savedDawRoom();
  const join: JoinParams = { role: 'daw', deviceId: deviceId() };
  if (saved) Object.assign(join, { room: saved.room, hostToken: saved.hostToken });
  const [access, setAccess] = createSignal<Access>(saved?.access ?? { locked: false, pin: null });
  const [band, setBand] = createSignal<Band>(saved?.band ?? DEFAULT_BAND);
  const keep = (room: string, hostToken: string) => saveDawRoom({ room, hostToken, access: access(), band: band() });
  const engine = createDrumEngine();
  onCleanup(() => engine.dispose());
  const [soundState, setSoundState] = createSignal(engine.state);
  // What the engine plays: the built-in kit (rendered once sound runs), the musician's samples
  // and kits (issue 10), and each melodic player's notes (state/daw-sound.ts).
  const sound = createDawSound(engine, BUILT_IN_LOOKS);
  onCleanup(() => sound.dispose());
  const kits = sound.kits;
  const samples = sound.samples;
  sound.started();
  onCleanup(
    engine.onStateChange((state) => {
      setSoundState(state);
      sound.started();
    }),
  );
  // A kit chosen on an earlier visit: its pads' names on the pads that play built-in sounds.
  if (sound.kitId() !== 'electronic') void sound.chooseKit(sound.kitId());
  /**
   * The pads' names and colours, as the current kit has them (phones show them). A memo: each pad's
   * view reads it at every 4 Hz redraw of its count, and a plain function made 16 new pads and 32
   * store subscriptions there, per pad.
   */
  const pads = createMemo((): PadLook[] => kits.view.pads.map(({ name, color }) => ({ name, color })));

  let signaling: Signaling | undefined;
  let pruneTimer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(pruneTimer));
  const recorder = recorderFromUrl(location.search);
  // With the recorder (tests, benchmarks), the engine's counters too: which slot and sound each hit played.
  if (recorder) Object.assign(window, { padmeshRecorder: recorder, padmeshEngine: { stats: () => engine.stats() } });
  let firstWelcome = true;
  const midiOut = new MidiOut();
  // The Record button: every hit and the engine's output, kept as they come (recording/recording.ts).
  const recording = createRecording({ engine, tempo: () => jam.view.tempo });
  onCleanup(() => recording.dispose());
  const jam = createDawJam(() => signaling as Signaling, engine, {
    recorder,
    midi: midiOut,
    take: recording,
    onTempo: (tempo) => {
      midi.tempoChanged();
      actions.setRoomState({ tempo: tempo.bpm, pads: pads(), band: band() });
    },
  });
  const midi = createMidiSession(midiOut, {
    play: jam.playLocal,
    tempo: () => jam.view.tempo,
    setMuted: engine.setMuted,
  });
  onCleanup(() => midi.dispose());
  const [session, actions, created] = createSession(join, {
    onWelcome: (welcome) => {
      // A connection for the next phone's offer, made now rather than when the offer comes in.
      keepSpareConnection(welcome.iceServers);
      // The server keeps the lock and PIN while the room lives; after a restart it has forgotten them.
      const held = welcome.access;
      if (held && (held.locked || held.pin !== null)) setAccess(held);
      else if (access().locked || access().pin !== null) signaling?.send({ type: 'access', access: access() });
      if (welcome.hostToken) keep(welcome.room, welcome.hostToken);
      // A reloaded DAW page gets its room's tempo and band back from the server.
      const kept = welcome.state?.tempo;
      if (firstWelcome && kept !== undefined && kept !== jam.view.tempo.bpm) jam.setBpm(kept);
      if (firstWelcome && welcome.state?.band) setBand(welcome.state.band);
      firstWelcome = false;
      // Every welcome, also after a server restart (which forgets room state): tempo, pads' names and colours, the band.
      shareState();
      // The tempo to every controller: those without a channel heard none while our socket was
      // down, and after a reload this page knows of none yet.
      for (const member of welcome.members) if (member.role === 'controller') jam.greet(member.peerId);
      // Controllers that left while our socket was down never got a member-left to us. After a
      // server restart the others are rejoining now, so look once the resume window is over.
      clearTimeout(pruneTimer);
      pruneTimer = setTimeout(
        () => jam.keepOnly(new Set(session.members.map((member) => member.peerId))),
        PRUNE_AFTER_MS,
      );
    },
    onStatus: (status) => {
      // The room we kept could not be taken back (its hostToken expired, or the server's secret
      // changed): start a new one rather than show an error about an old room.
      if (
        status.kind === 'ended' &&
        status.reason.kind === 'refused' &&
        status.reason.code === ErrorCode.UNAUTHORIZED &&
        saved !== null
      ) {
        saveDawRoom(null);
        location.assign('/daw');
      }
    },
    onMessage: (message) => {
      // Tokens expire; the server renews the hostToken in a pong while this page is connected.
      if (message.type === 'pong' && message.resumeToken !== undefined && session.room) {
        keep(session.room, message.resumeToken);
      }
      if (message.type === 'signal') jam.peers.handleSignal(message.from, message.data);
      else if (message.type === 'relay') jam.peers.handleRelay(message.from, message.data);
      else if (message.type === 'member-left') jam.forget(message.peerId);
      else if (message.type === 'member-joined' && message.member.role === 'controller')
        jam.greet(message.member.peerId);
    },
  });
  signaling = created;
  const shareState = () =>
    untrack(() => actions.setRoomState({ tempo: jam.view.tempo.bpm, pads: pads(), band: band() }));
  // A pad's new name or colour reaches the phones at once (before the first welcome, that sends them).
  createEffect(
    on(
      pads,
      () => {
        if (!firstWelcome) shareState();
      },
      { defer: true },
    ),
  );
  const changeBand = (next: Band) => {
    setBand(next);
    shareState();
    const hostToken = signaling?.params.hostToken;
    if (session.room && hostToken) keep(session.room, hostToken);
  };
  const setPart = (peerId: string, instrument: InstrumentId, octave: number) => {
    // Parts of players long gone are dropped here, so the band stays within what the server keeps.
    const here = new Set(session.members.map((member) => member.peerId));
    const players: Band['players'] = {};
    for (const [id, sound] of Object.entries(band().players)) if (here.has(id) && id !== peerId) players[id] = sound;
    if (instrument !== 'drums') {
      const pads = melodicPads({ ...partOf(band(), peerId), instrument, octave });
      players[peerId] = { instrument, octave, pads };
    }
    changeBand({ ...band(), players });
  };
  // A new key or scale renames every melodic phone's notes.
  const setKeyScale = (key: number, scale: ScaleId) => {
    const players: Band['players'] = {};
    for (const [id, sound] of Object.entries(band().players)) {
      const part = { ...partOf({ ...band(), key, scale }, id) };
      players[id] = { ...sound, pads: melodicPads(part) };
    }
    changeBand({ key, scale, players });
  };

  onMount(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
      const pad = padOfKey(event.code);
      if (pad < 0) return;
      event.preventDefault();
      jam.playLocal(pad, event.shiftKey ? SOFT_KEY_VELOCITY : KEY_VELOCITY);
    };
    window.addEventListener('keydown', onKey);
    onCleanup(() => window.removeEventListener('keydown', onKey));
    // A file dropped beside a pad must not make the browser open it (and leave the jam).
    const keepFiles = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
    };
    window.addEventListener('dragover', keepFiles);
    window.addEventListener('drop', keepFiles);
    onCleanup(() => {
      window.removeEventListener('dragover', keepFiles);
      window.removeEventListener('drop', keepFiles);
    });
  });
  const latency = () => {
    soundState(); // re-read when the context starts: some browsers report only then
    const value = engine.outputLatencyMs();
    return value === null ? null : Math.round(value);
  };
  const [origin] = createResource(lanOrigin);
  const joinUrl = () => (session.room && origin() ? `${origin()}${joinPath(session.room)}` : null);
  const controllers = () => session.members.filter((m) => m.role === 'controller');
  // Where each player's pads are in the engine: the drum kit, or their melodic part's notes once
  // rendered (again whenever the band, the players, the sound's state or a bank's readiness change).
  const [unplaced, setUnplaced] = createSignal<string[]>([]);
  createEffect(() => {
    soundState();
    sound.banksChanged();
    const parts = new Map(controllers().map((member) => [member.peerId, partOf(band(), member.peerId)]));
    const placed = untrack(() => sound.setParts(parts));
    for (const [peerId, base] of placed.slotBase) jam.setSlotBase(peerId, base);
    setUnplaced(placed.unplaced);
    // A player without a bank plays the drums, and is recorded so.
    for (const [peerId, part] of parts)
      recording.part(peerId, placed.unplaced.includes(peerId) ? { ...part, instrument: 'drums' } : part);
  });
  // What the recording needs to name and place each track: players' names, the kit, the tempo.
  createEffect(() => {
    for (const member of controllers()) recording.name(member.peerId, member.name);
  });
  createEffect(() => recording.kit(sound.kitId()));
  createEffect(
    on(
      () => jam.view.tempo,
      (tempo) => recording.tempo(tempo),
      { defer: true },
    ),
  );

  // The drum pads' MIDI notes follow the built-in kit chosen (a pedal hat is GM's pedal hat).
  createEffect(() => {
    const kit = BUILT_IN_KITS.find((design) => design.id === sound.kitId()) ?? BUILT_IN_KITS[0];
    if (kit) midi.setDrumNotes(drumNotesFor(kit.pads.map((pad) => pad.id)));
  });
  // What each player's hits are as MIDI notes: their part's notes, whether or not its sounds are rendered here.
  createEffect(() => {
    for (const { peerId } of controllers()) {
      const part = partOf(band(), peerId);
      midiOut.setPart(peerId, part.instrument === 'drums' ? null : partNotes(part));
    }
  });

  const newRoom = () => {
    actions.leave();
    saveDawRoom(null);
    // A fresh page load starts a fresh session (and a new room).
    location.assign('/daw');
  };

  const ended = () => (session.status.kind === 'ended' ? session.status.reason : null);

  return (
    <main class="daw">
      <Show
        when={ended()}
        fallback={
          <>
            <header>
              <StatusLight status={session.status} rttMs={session.rttMs} />
              <div
                class="sound"
                data-testid="engine"
                data-state={soundState()}
                data-kit={sound.kitState()}
                data-triggered={jam.view.triggered}
              >
                <Show
                  when={soundState() === 'running'}
                  fallback={
                    <button
                      type="button"
                      class="primary"
                      data-testid="enable-sound"
                      onClick={() => void engine.start()}
                    >
                      Enable sound
                    </button>
                  }
                >
                  <LevelMeter peakDb={() => engine.peakDb()} />
                  <span
                    class="muted"
                    data-testid="output-latency"
                    title="What the browser reports for its audio output"
                  >
                    {latency() === null ? 'output latency unknown' : `output ${latency()} ms`}
                  </span>
                </Show>
              </div>
              <button type="button" class="small" onClick={newRoom}>
                New room
              </button>
            </header>
            <section class="room">
              <div>
                <p class="muted">Room code</p>
                <p class="code" data-testid="room-code">
                  {session.room ?? '······'}
                </p>
                <p class="muted">Phones join at</p>
                <p class="url" data-testid="join-url">
                  {joinUrl() ?? '…'}
                </p>
              </div>
              <Show when={joinUrl()}>{(url) => <QrCode text={url()} label={`QR code for ${url()}`} />}</Show>
            </section>
            <Show when={joinUrl()?.startsWith('https:')}>
              <CertificateNote />
            </Show>
            <section>
              <AccessControls
                access={access()}
                onChange={(next) => {
                  setAccess(next);
                  signaling?.send({ type: 'access', access: next });
                  const hostToken = signaling?.params.hostToken;
                  if (session.room && hostToken) keep(session.room, hostToken);
                }}
              />
            </section>
            <section>
              <TimingControls
                mode={jam.view.mode}
                tempo={jam.view.tempo}
                metronome={jam.view.metronome}
                dawNow={() => wallClock() - (engine.outputLatencyMs() ?? 0)}
                onMode={jam.setMode}
                onBpm={jam.setBpm}
                onRunning={jam.setRunning}
                onBeatsPerBar={jam.setBeatsPerBar}
                onMetronome={jam.setMetronome}
              />
              <BandControls keyIndex={band().key} scale={partOf(band(), null).scale} onChange={setKeyScale} />
              <RecordControls recording={recording} soundOn={soundState() === 'running'} />
            </section>
            <section>
              <h2>MIDI</h2>
              <MidiControls midi={midi} />
            </section>
            <section>
              <h2>
                Players <span class="muted">{controllers().length}</span>
              </h2>
              <MemberList
                members={session.members}
                self={session.peerId}
                stats={(peerId) => jam.view.stats[peerId]}
                onKick={actions.kick}
                part={(peerId) => partOf(band(), peerId)}
                onPart={setPart}
              />
            </section>
            <section class="stage">
              <div class="kit-bar">
                <label title="The built-in sounds of pads without a sample of yours">
                  Sounds{' '}
                  <select
                    data-testid="built-in-kit"
                    value={sound.kitId()}
                    onChange={(event) => void sound.chooseKit(event.currentTarget.value as BuiltInKitId)}
                  >
                    <For each={BUILT_IN_KIT_CHOICES}>{(kit) => <option value={kit.id}>{kit.name}</option>}</For>
                  </select>
                </label>
                <span class="muted" data-testid="kit-state" data-state={sound.kitState()}>
                  {KIT_STATE_TEXT[sound.kitState()]}
                </span>
                <Show when={sound.cacheProblem()}>
                  {(problem) => (
                    <span class="muted" title={problem()}>
                      (not kept for next time: {problem()})
                    </span>
                  )}
                </Show>
                <Show when={sound.partProblem()}>{(problem) => <span class="warn">{problem()}</span>}</Show>
                <Show when={unplaced().length > 0}>
                  <span class="warn" data-testid="unplaced">
                    {unplaced().length} player{unplaced().length === 1 ? '' : 's'} on drums: every instrument bank is in
                    use
                  </span>
                </Show>
              </div>
              <DawPads
                pads={pads()}
                hits={jam.view.padHits}
                elements={jam.padElements}
                onPlay={(pad) => jam.playLocal(pad, KEY_VELOCITY)}
                onFile={(pad, file) => void kits.importSample(pad, file)}
                sounds={samples.slots}
              />
              <HitLog
                hits={jam.view.recent}
                members={session.members}
                pads={pads()}
                padsOf={(peerId) => band().players[peerId]?.pads}
              />
            </section>
            <section>
              <h2>Samples and kits</h2>
              <PadSamples store={kits} builtIn={sound.builtInLooks()} />
            </section>
          </>
        }
      >
        {(reason) => (
          <EndScreen reason={reason()}>
            <button type="button" class="big primary" onClick={newRoom}>
              Start a new room
            </button>
            <button type="button" class="big" onClick={() => props.navigate('/')}>
              Home
            </button>
          </EndScreen>
        )}
      </Show>
    </main>
  );
}
