import { createResource, createSignal, onCleanup, onMount, Show } from 'solid-js';
import { DEFAULT_LIMITS } from '../../signal/limits.ts';
import { type Access, ErrorCode } from '../../signal/protocol.ts';
import { createDrumEngine } from '../audio/engine.ts';
import { KIT } from '../audio/kit.ts';
import { AccessControls } from '../components/AccessControls.tsx';
import { DawPads } from '../components/DawPads.tsx';
import { EndScreen } from '../components/EndScreen.tsx';
import { HitLog } from '../components/HitLog.tsx';
import { LevelMeter } from '../components/LevelMeter.tsx';
import { MemberList } from '../components/MemberList.tsx';
import type { PadLook } from '../components/PadGrid.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import { TimingControls } from '../components/TimingControls.tsx';
import { KEY_VELOCITY, padOfKey, SOFT_KEY_VELOCITY } from '../input/keys.ts';
import { wallClock } from '../net/hits.ts';
import type { JoinParams, Signaling } from '../net/signaling.ts';
import { joinPath } from '../src/routes.ts';
import { recorderFromUrl } from '../state/hit-recorder.ts';
import { createDawJam } from '../state/jam.ts';
import { createSession } from '../state/session.ts';
import { deviceId, saveDawRoom, savedDawRoom } from '../state/storage.ts';

const PADS: PadLook[] = KIT.map(({ name, color }) => ({ name, color }));
/** Past the server's resume window every controller that is coming back is back. */
const PRUNE_AFTER_MS = DEFAULT_LIMITS.resumeWindowMs + 5_000;

/**
 * The origin phones can reach this page at. The DAW page is usually on localhost, so the
 * server tells us the laptop's LAN address; the port stays this page's own (in `npm run
 * dev` that is Vite's, not the signal server's).
 */
async function lanOrigin(): Promise<string> {
  const onLan = location.hostname !== 'localhost' && location.hostname !== '127.0.0.1' && location.hostname !== '[::1]';
  if (onLan) return location.origin;
  try {
    const reply = await fetch('/api/lan');
    const { hosts } = (await reply.json()) as { hosts?: unknown };
    const [host] = Array.isArray(hosts) ? hosts : [];
    if (typeof host === 'string') {
      const hostPart = host.includes(':') ? `[${host}]` : host;
      return `${location.protocol}//${hostPart}${location.port ? `:${location.port}` : ''}`;
    }
  } catch {
    // Fall through: show what we have.
  }
  return location.origin;
}

export function DawPage(props: { navigate: (path: string) => void }) {
  const saved = savedDawRoom();
  const join: JoinParams = { role: 'daw', deviceId: deviceId() };
  if (saved) Object.assign(join, { room: saved.room, hostToken: saved.hostToken });
  const [access, setAccess] = createSignal<Access>(saved?.access ?? { locked: false, pin: null });
  const keep = (room: string, hostToken: string) => saveDawRoom({ room, hostToken, access: access() });
  const engine = createDrumEngine();
  onCleanup(() => engine.dispose());
  const [soundState, setSoundState] = createSignal(engine.state);
  // The kit is rendered once sound is enabled (its pads play as each is ready).
  const [kit, setKit] = createSignal<'none' | 'loading' | 'ready' | 'failed'>('none');
  const loadKit = (state: AudioContextState) => {
    if (state !== 'running' || kit() !== 'none') return;
    setKit('loading');
    // Loaded on demand: the kit's renderer brings Tone.js, which playing needs none of.
    import('../audio/render-kit.ts')
      .then(({ PLACEHOLDER_KIT }) => engine.loadKit(PLACEHOLDER_KIT))
      .then(
        () => setKit('ready'),
        (error: unknown) => {
          setKit('failed');
          console.error('padmesh: the kit did not load', error);
        },
      );
  };
  loadKit(engine.state);
  onCleanup(
    engine.onStateChange((state) => {
      setSoundState(state);
      loadKit(state);
    }),
  );

  let signaling: Signaling | undefined;
  let pruneTimer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(pruneTimer));
  const recorder = recorderFromUrl(location.search);
  if (recorder) Object.assign(window, { padmeshRecorder: recorder });
  let firstWelcome = true;
  const jam = createDawJam(() => signaling as Signaling, engine, {
    recorder,
    onTempo: (tempo) => actions.setRoomState({ tempo: tempo.bpm, pads: PADS }),
  });
  const [session, actions, created] = createSession(join, {
    onWelcome: (welcome) => {
      // The server keeps the lock and PIN while the room lives; after a restart it has forgotten them.
      const held = welcome.access;
      if (held && (held.locked || held.pin !== null)) setAccess(held);
      else if (access().locked || access().pin !== null) signaling?.send({ type: 'access', access: access() });
      if (welcome.hostToken) keep(welcome.room, welcome.hostToken);
      // A reloaded DAW page gets its room's tempo back from the server.
      const kept = welcome.state?.tempo;
      if (firstWelcome && kept !== undefined && kept !== jam.view.tempo.bpm) jam.setBpm(kept);
      firstWelcome = false;
      // Every welcome, also after a server restart (which forgets room state): tempo, pads' names and colours.
      actions.setRoomState({ tempo: jam.view.tempo.bpm, pads: PADS });
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

  onMount(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target instanceof HTMLInputElement) return;
      const pad = padOfKey(event.code);
      if (pad < 0) return;
      event.preventDefault();
      jam.playLocal(pad, event.shiftKey ? SOFT_KEY_VELOCITY : KEY_VELOCITY);
    };
    window.addEventListener('keydown', onKey);
    onCleanup(() => window.removeEventListener('keydown', onKey));
  });
  const latency = () => {
    soundState(); // re-read when the context starts: some browsers report only then
    const value = engine.outputLatencyMs();
    return value === null ? null : Math.round(value);
  };
  const [origin] = createResource(lanOrigin);
  const joinUrl = () => (session.room && origin() ? `${origin()}${joinPath(session.room)}` : null);
  const controllers = () => session.members.filter((m) => m.role === 'controller');

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
                data-kit={kit()}
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
              />
            </section>
            <section class="stage">
              <DawPads
                pads={PADS}
                hits={jam.view.padHits}
                elements={jam.padElements}
                onPlay={(pad) => jam.playLocal(pad, KEY_VELOCITY)}
              />
              <HitLog hits={jam.view.recent} members={session.members} pads={PADS} />
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
