import { createEffect, createSignal, For, onCleanup, Show } from 'solid-js';
import { createStore } from 'solid-js/store';
import { normalizeRoomCode, PLAYER_COLORS, ROOM_CODE_LENGTH } from '../../signal/protocol.ts';
import { KIT } from '../audio/kit.ts';
import { BeatLight } from '../components/BeatLight.tsx';
import { EndScreen } from '../components/EndScreen.tsx';
import { PadGrid, type PadLook } from '../components/PadGrid.tsx';
import { RoomCodeInput } from '../components/RoomCodeInput.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import { TransportBadge } from '../components/TransportBadge.tsx';
import { ControllerLink, type Transport } from '../net/controller-link.ts';
import { type Tempo, type TimingReport, wallClock } from '../net/hits.ts';
import type { Signaling } from '../net/signaling.ts';
import { joinPath } from '../src/routes.ts';
import { createSession } from '../state/session.ts';
import {
  deviceId,
  saveColor,
  savedColor,
  savedName,
  savedResumeToken,
  saveName,
  saveResumeToken,
} from '../state/storage.ts';

/** The phone's page. Without a valid code (or a name yet) it asks; with both it joins. */
export function ControllerPage(props: { room: string | null; typed: string | null; navigate: (path: string) => void }) {
  const [name, setName] = createSignal(savedName());
  // Null until the player picks one: then the server gives each player a different colour.
  const [color, setColor] = createSignal<string | null>(savedColor());
  const [ready, setReady] = createSignal(props.room !== null && savedName() !== '');

  return (
    <main class="controller">
      <Show
        when={ready() && props.room}
        fallback={
          <JoinForm
            {...props}
            name={name()}
            color={color()}
            onName={setName}
            onColor={setColor}
            onReady={() => setReady(true)}
          />
        }
      >
        {(room) => (
          <InRoom
            room={room()}
            name={name()}
            color={color()}
            onProfile={(next) => {
              setName(next.name);
              setColor(next.color);
            }}
            navigate={props.navigate}
          />
        )}
      </Show>
    </main>
  );
}

function ColorPicker(props: { value: string | null; onPick: (color: string) => void }) {
  return (
    <fieldset class="swatches">
      <legend>Your colour</legend>
      <For each={PLAYER_COLORS}>
        {(color) => (
          <label class="swatch" style={{ background: color }} data-testid="color-swatch">
            <input
              type="radio"
              name="color"
              value={color}
              aria-label={color}
              checked={props.value === color}
              onChange={() => props.onPick(color)}
            />
          </label>
        )}
      </For>
    </fieldset>
  );
}

function JoinForm(props: {
  room: string | null;
  typed: string | null;
  name: string;
  color: string | null;
  onName: (name: string) => void;
  onColor: (color: string) => void;
  onReady: () => void;
  navigate: (path: string) => void;
}) {
  const [code, setCode] = createSignal(props.room ?? props.typed ?? '');
  const valid = () => normalizeRoomCode(code()) !== null && props.name.trim() !== '';
  return (
    <form
      class="join-form"
      onSubmit={(event) => {
        event.preventDefault();
        const room = normalizeRoomCode(code());
        if (!room || props.name.trim() === '') return;
        saveName(props.name);
        if (props.color !== null) saveColor(props.color);
        if (room !== props.room) props.navigate(joinPath(room));
        props.onReady();
      }}
    >
      <h1>Join a jam</h1>
      <Show when={props.typed !== null && props.room === null}>
        <p class="warning">
          “{props.typed}” is not a room code. Codes have {ROOM_CODE_LENGTH} letters and digits.
        </p>
      </Show>
      <label for="code">Room code</label>
      <RoomCodeInput value={code()} onInput={setCode} />
      <label for="name">Your name</label>
      <input
        id="name"
        data-testid="name-input"
        autocomplete="nickname"
        maxlength={32}
        value={props.name}
        onInput={(event) => props.onName(event.currentTarget.value)}
      />
      <ColorPicker value={props.color} onPick={props.onColor} />
      <button type="submit" class="big primary" disabled={!valid()}>
        Join
      </button>
    </form>
  );
}

/** What the link says, as Solid state for the header. */
interface LinkView {
  transport: Transport;
  rttMs: number | null;
  dropped: number;
  webrtc: boolean;
  /** Why the last direct link ended ('closed', 'silent', 'error: …'), for the badge's tooltip. */
  lastEnd: string | null;
  /** What the DAW measured of us (one-way latency, jitter, steady mode), or null. */
  timing: TimingReport | null;
  tempo: Tempo | null;
}

function createLink(getSignaling: () => Signaling) {
  const [view, setView] = createStore<LinkView>({
    transport: 'offline',
    rttMs: null,
    dropped: 0,
    webrtc: true,
    lastEnd: null,
    timing: null,
    tempo: null,
  });
  const link = new ControllerLink({
    iceServers: () => getSignaling().welcome?.iceServers ?? [],
    sendSignal: (to, data) => getSignaling().send({ type: 'signal', to, data }),
    sendRelay: (data) => getSignaling().sendNow({ type: 'relay', data }),
    onChange: () =>
      setView({
        transport: link.transport,
        rttMs: link.rttMs,
        dropped: link.counts.dropped,
        webrtc: link.webrtc,
        lastEnd: link.lastEnd,
        timing: link.timing,
        tempo: link.tempo,
      }),
  });
  onCleanup(() => link.destroy());
  return [view, link] as const;
}

function InRoom(props: {
  room: string;
  name: string;
  color: string | null;
  onProfile: (profile: { name: string; color: string }) => void;
  navigate: (path: string) => void;
}) {
  const resumeToken = savedResumeToken(props.room);
  let signaling: Signaling | undefined;
  const [linkView, link] = createLink(() => signaling as Signaling);
  const [session, actions, created] = createSession(
    {
      role: 'controller',
      room: props.room,
      deviceId: deviceId(),
      name: props.name.trim(),
      ...(props.color === null ? {} : { color: props.color }),
      ...(resumeToken === undefined ? {} : { resumeToken }),
    },
    {
      onWelcome: (welcome) => {
        saveResumeToken(welcome.room, welcome.resumeToken);
        // No colour picked yet: keep the one the server gave, so it stays this player's colour.
        const mine = welcome.members.find((member) => member.peerId === welcome.peerId);
        if (props.color === null && mine) {
          saveColor(mine.color);
          props.onProfile({ name: props.name, color: mine.color });
        }
      },
      onStatus: (status) => {
        link.setSocket(status.kind === 'connected');
        // Kicked, ended or left: no more hits from this page, not even over an open channel.
        if (status.kind === 'ended') link.destroy();
      },
      onMessage: (message) => {
        if (message.type === 'signal') link.handleSignal(message.from, message.data);
        else if (message.type === 'relay') link.handleRelay(message.from, message.data);
      },
    },
  );
  signaling = created;

  const daw = () => session.members.find((m) => m.role === 'daw');
  const myColor = () => session.members.find((m) => m.peerId === session.peerId)?.color ?? props.color ?? undefined;
  createEffect(() => {
    const current = daw();
    link.setDaw(current?.peerId ?? null, session.status.kind === 'connected' && current?.state === 'connected');
  });

  const pads = (): PadLook[] => {
    const fromDaw = session.roomState?.pads ?? [];
    return KIT.map((kitPad, i) => fromDaw[i] ?? kitPad);
  };
  const ended = () => (session.status.kind === 'ended' ? session.status.reason : null);
  const [editing, setEditing] = createSignal(false);

  return (
    <Show
      when={ended()}
      fallback={
        <div class="play">
          <header class="play-bar">
            <StatusLight status={session.status} />
            <span class="muted room-tag" data-testid="room-code">
              {props.room}
            </span>
            <TransportBadge
              transport={linkView.transport}
              rttMs={linkView.rttMs ?? session.rttMs}
              timing={linkView.timing}
              lastEnd={linkView.webrtc ? linkView.lastEnd : 'this browser has no WebRTC'}
            />
            <Show when={linkView.tempo?.running}>
              <BeatLight
                tempo={linkView.tempo}
                dawNow={() => {
                  // The DAW's clock, less its output latency: the light comes on as the click is heard.
                  const now = wallClock();
                  return now + link.dawOffsetAt(now) - (linkView.timing?.outputLatencyMs ?? 0);
                }}
              />
            </Show>
            <Show when={linkView.dropped > 0}>
              <span class="dropped" data-testid="dropped" title="Hits that could not reach the DAW in time">
                {linkView.dropped} dropped
              </span>
            </Show>
            <button
              type="button"
              class="chip"
              data-testid="profile"
              style={{ '--chip-color': myColor() }}
              onClick={() => setEditing(!editing())}
            >
              {props.name}
            </button>
          </header>
          <Show when={daw()?.state === 'away'}>
            <p class="warning" data-testid="daw-away">
              DAW away — waiting for it to come back…
            </p>
          </Show>
          <Show when={editing()}>
            <ProfileSheet
              name={props.name}
              color={myColor() ?? (PLAYER_COLORS[0] as string)}
              onSave={(profile) => {
                saveName(profile.name);
                saveColor(profile.color);
                props.onProfile(profile);
                actions.setProfile(profile);
                setEditing(false);
              }}
              onLeave={() => {
                actions.leave();
                saveResumeToken(props.room, null);
              }}
            />
          </Show>
          <PadGrid pads={pads()} onHit={(pad, velocity) => link.hit(pad, velocity)} />
        </div>
      }
    >
      {(reason) => (
        <EndScreen reason={reason()}>
          <button
            type="button"
            class="big primary"
            onClick={() => {
              saveResumeToken(props.room, null);
              location.assign(joinPath(props.room));
            }}
          >
            Join again
          </button>
          <button type="button" class="big" onClick={() => props.navigate('/join')}>
            Another code
          </button>
        </EndScreen>
      )}
    </Show>
  );
}

function ProfileSheet(props: {
  name: string;
  color: string;
  onSave: (profile: { name: string; color: string }) => void;
  onLeave: () => void;
}) {
  const [name, setName] = createSignal(props.name);
  const [color, setColor] = createSignal(props.color);
  return (
    <form
      class="sheet"
      onSubmit={(event) => {
        event.preventDefault();
        if (name().trim() !== '') props.onSave({ name: name().trim(), color: color() });
      }}
    >
      <label for="profile-name">Your name</label>
      <input id="profile-name" maxlength={32} value={name()} onInput={(event) => setName(event.currentTarget.value)} />
      <ColorPicker value={color()} onPick={setColor} />
      <div class="actions">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={() => props.onLeave()}>
          Leave the jam
        </button>
      </div>
    </form>
  );
}
