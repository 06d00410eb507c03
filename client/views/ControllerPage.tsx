import { createEffect, createSignal, For, onCleanup, Show } from 'solid-js';
import { createStore } from 'solid-js/store';
import { ErrorCode, normalizeRoomCode, PIN_PATTERN, PLAYER_COLORS, ROOM_CODE_LENGTH } from '../../signal/protocol.ts';
import { KIT } from '../audio/kit.ts';
import { BeatLight } from '../components/BeatLight.tsx';
import { EndScreen } from '../components/EndScreen.tsx';
import { PadGrid, type PadLook } from '../components/PadGrid.tsx';
import { RoomCodeInput } from '../components/RoomCodeInput.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import { TransportBadge } from '../components/TransportBadge.tsx';
import { ControllerLink, type Transport } from '../net/controller-link.ts';
import { type Tempo, type TimingReport, wallClock } from '../net/hits.ts';
import type { EndReason, Signaling } from '../net/signaling.ts';
import { joinPath } from '../src/routes.ts';
import { controllerJoin, joinsAtOnce, nameIssue } from '../state/returning-player.ts';
import { createScreenAwake, SCREEN_AWAKE_TEXT } from '../state/screen-awake.ts';
import { createSession } from '../state/session.ts';
import { deviceId, saveColor, savedColor, savedName, saveName, saveResumeToken } from '../state/storage.ts';

/** How long a joining phone's play view waits for its offer to the DAW to be sent before it shows anyway (ms). */
const VIEW_WAIT_MS = 300;

/** The phone's page. Without a valid code (or a name yet) it asks; with both it joins. */
export function ControllerPage(props: { room: string | null; typed: string | null; navigate: (path: string) => void }) {
  const [name, setName] = createSignal(savedName());
  // Null until the player picks one: then the server gives each player a different colour.
  const [color, setColor] = createSignal<string | null>(savedColor());
  const [ready, setReady] = createSignal(joinsAtOnce(props.room));
  // The room's PIN, once the player typed it (asked only when the DAW set one). Each PIN typed
  // is a new attempt to join (a new object, even for the same digits): InRoom is made again for it.
  const [attempt, setAttempt] = createSignal<{ pin: string | undefined }>({ pin: undefined });

  return (
    <main class="controller">
      <Show
        when={ready() && props.room ? { room: props.room, pin: attempt().pin } : null}
        keyed
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
        {(joining) => (
          <InRoom
            room={joining.room}
            pin={joining.pin}
            name={name()}
            color={color()}
            onProfile={(next) => {
              setName(next.name);
              setColor(next.color);
            }}
            onPin={(pin) => setAttempt({ pin })}
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
  const problem = () => (props.name.trim() === '' ? null : nameIssue(props.name));
  const valid = () => normalizeRoomCode(code()) !== null && props.name.trim() !== '' && problem() === null;
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
        aria-invalid={problem() !== null}
        onInput={(event) => props.onName(event.currentTarget.value)}
      />
      <Show when={problem()}>
        {(text) => (
          <p class="warning" data-testid="name-problem">
            {text()}
          </p>
        )}
      </Show>
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

function createLink(getSignaling: () => Signaling, onSignalSent: () => void) {
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
    sendSignal: (to, data) => {
      getSignaling().send({ type: 'signal', to, data });
      onSignalSent();
    },
    sendRelay: (data, ref) =>
      getSignaling().sendNow(ref === undefined ? { type: 'relay', data } : { type: 'relay', data, ref }),
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
  /** The room's PIN, when the player gave one. */
  pin: string | undefined;
  name: string;
  color: string | null;
  onProfile: (profile: { name: string; color: string }) => void;
  onPin: (pin: string) => void;
  navigate: (path: string) => void;
}) {
  // The play view (header, pads) waits until the offer to the DAW is sent, at most VIEW_WAIT_MS: made
  // first, it would hold up the offer by as long as it takes to make; made after it, it is made while
  // the DAW answers.
  const [viewShown, setViewShown] = createSignal(false);
  const viewTimer = setTimeout(() => setViewShown(true), VIEW_WAIT_MS);
  onCleanup(() => clearTimeout(viewTimer));
  /** The view, a task later (so this one ends first); once: every later signal and status finds it made. */
  let viewAsked = false;
  const showViewSoon = () => {
    if (viewAsked) return;
    viewAsked = true;
    setTimeout(() => setViewShown(true));
  };
  let signaling: Signaling | undefined;
  // The offer is on its way: the view is made while the DAW answers.
  const [linkView, link] = createLink(() => signaling as Signaling, showViewSoon);
  const [session, actions, created] = createSession(
    // A returning player's page sent this same join before the app ran (src/early-join.ts): that socket is taken over.
    controllerJoin(props.room, deviceId(), props.name, props.color, props.pin),
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
        // Connected: a welcome came, and the store has not taken it in yet. The link to the DAW starts
        // now, before anything of the welcome is rendered (the effect below then finds it told), and
        // the play view is made after its offer has gone out (see `viewShown`).
        if (status.kind === 'connected' && signaling?.welcome) {
          const current = signaling.welcome.members.find((member) => member.role === 'daw');
          link.setDaw(current?.peerId ?? null, current?.state === 'connected');
          // No offer is coming (no DAW to send it to, or no WebRTC here): nothing to wait for.
          if (current?.state !== 'connected' || !link.webrtc) showViewSoon();
        }
        // Kicked, ended or left: no more hits from this page, not even over an open channel.
        if (status.kind === 'ended') link.destroy();
      },
      onMessage: (message) => {
        if (message.type === 'signal') link.handleSignal(message.from, message.data);
        else if (message.type === 'relay') link.handleRelay(message.from, message.data);
        // A relayed hit the server could not deliver (the DAW was away): held again, or counted.
        else if (message.type === 'error' && message.ref !== undefined) link.relayRefused(message.ref);
        // Tokens expire; the server renews ours while we are here.
        else if (message.type === 'pong' && message.resumeToken !== undefined) {
          saveResumeToken(props.room, message.resumeToken);
        }
      },
    },
  );
  signaling = created;

  const daw = () => session.members.find((m) => m.role === 'daw');
  const me = () => session.members.find((m) => m.peerId === session.peerId);
  const myColor = () => me()?.color ?? props.color ?? undefined;
  // The server may have made our name distinct from another player's ("Ana 2").
  const myName = () => me()?.name ?? props.name;
  createEffect(() => {
    const current = daw();
    link.setDaw(current?.peerId ?? null, session.status.kind === 'connected' && current?.state === 'connected');
  });

  // The DAW may give this phone a melodic instrument: its pads are then notes, named by the DAW.
  const pads = (): PadLook[] => {
    const state = session.roomState;
    const part = session.peerId === null ? undefined : state?.band?.players[session.peerId];
    const fromDaw = part?.pads ?? state?.pads ?? [];
    return KIT.map((kitPad, i) => fromDaw[i] ?? kitPad);
  };
  const ended = () => (session.status.kind === 'ended' ? session.status.reason : null);
  const [editing, setEditing] = createSignal(false);

  return (
    <Show
      when={ended()}
      fallback={
        <Show when={viewShown()}>
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
                {myName()}
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
            <ScreenAwakeNote />
          </div>
        </Show>
      }
    >
      {(reason) => (
        <Show
          when={askedForPin(reason())}
          fallback={
            <EndScreen reason={reason()}>
              <Show when={mayJoinAgain(reason())}>
                <button
                  type="button"
                  class="big primary"
                  onClick={() => {
                    // Taken over by another tab: with our token we take it back. Otherwise a fresh start.
                    if (reason().kind !== 'replaced') saveResumeToken(props.room, null);
                    location.assign(joinPath(props.room));
                  }}
                >
                  Join again
                </button>
              </Show>
              <button type="button" class="big" onClick={() => props.navigate('/join')}>
                Another code
              </button>
            </EndScreen>
          }
        >
          {(message) => <PinForm message={message()} onPin={props.onPin} onCancel={() => props.navigate('/join')} />}
        </Show>
      )}
    </Show>
  );
}

/** Keeps the screen on while the pads are shown (the jam), and says so when it cannot. */
function ScreenAwakeNote() {
  const state = createScreenAwake();
  return (
    <p
      class="muted screen-awake"
      data-testid="screen-awake"
      data-state={state()}
      hidden={SCREEN_AWAKE_TEXT[state()] === ''}
    >
      {SCREEN_AWAKE_TEXT[state()]}
    </p>
  );
}

/** What to show above the PIN field when the room asked for its PIN, or null if it did not. */
function askedForPin(reason: EndReason): string | null {
  if (reason.kind !== 'refused' || reason.code !== ErrorCode.PIN_REQUIRED) return null;
  return reason.message === 'wrong PIN' ? 'That PIN is not right. Try again.' : 'This jam asks for a PIN.';
}

/** Whether "Join again" can work: not after being removed, or with the room locked to newcomers. */
function mayJoinAgain(reason: EndReason): boolean {
  if (reason.kind === 'kicked') return false;
  return reason.kind !== 'refused' || (reason.code !== ErrorCode.BANNED && reason.code !== ErrorCode.ROOM_LOCKED);
}

function PinForm(props: { message: string; onPin: (pin: string) => void; onCancel: () => void }) {
  const [pin, setPin] = createSignal('');
  const valid = () => PIN_PATTERN.test(pin());
  return (
    <form
      class="join-form"
      data-testid="pin-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (valid()) props.onPin(pin());
      }}
    >
      <h1>PIN</h1>
      <p class="muted">{props.message} The DAW screen shows it.</p>
      <label for="pin">4-digit PIN</label>
      <input
        id="pin"
        data-testid="pin-input"
        inputmode="numeric"
        autocomplete="off"
        maxlength={4}
        pattern="[0-9]{4}"
        value={pin()}
        onInput={(event) => setPin(event.currentTarget.value.replace(/\D/g, ''))}
      />
      <button type="submit" class="big primary" disabled={!valid()}>
        Join
      </button>
      <button type="button" class="big" onClick={() => props.onCancel()}>
        Another code
      </button>
    </form>
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
