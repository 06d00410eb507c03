import { createSignal, Show } from 'solid-js';
import { normalizeRoomCode, ROOM_CODE_LENGTH } from '../../signal/protocol.ts';
import { EndScreen } from '../components/EndScreen.tsx';
import { RoomCodeInput } from '../components/RoomCodeInput.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import { joinPath } from '../src/routes.ts';
import { createSession } from '../state/session.ts';
import { deviceId, savedName, savedResumeToken, saveName, saveResumeToken } from '../state/storage.ts';

/** The phone's page. Without a valid code (or a name yet) it asks; with both it joins. */
export function ControllerPage(props: { room: string | null; typed: string | null; navigate: (path: string) => void }) {
  const [name, setName] = createSignal(savedName());
  const [ready, setReady] = createSignal(props.room !== null && savedName() !== '');

  return (
    <main class="controller">
      <Show
        when={ready() && props.room}
        fallback={<JoinForm {...props} name={name()} onName={setName} onReady={() => setReady(true)} />}
      >
        {(room) => <InRoom room={room()} name={name()} navigate={props.navigate} />}
      </Show>
    </main>
  );
}

function JoinForm(props: {
  room: string | null;
  typed: string | null;
  name: string;
  onName: (name: string) => void;
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
      <button type="submit" class="big primary" disabled={!valid()}>
        Join
      </button>
    </form>
  );
}

function InRoom(props: { room: string; name: string; navigate: (path: string) => void }) {
  const resumeToken = savedResumeToken(props.room);
  const [session] = createSession(
    {
      role: 'controller',
      room: props.room,
      deviceId: deviceId(),
      name: props.name.trim(),
      ...(resumeToken === undefined ? {} : { resumeToken }),
    },
    (welcome) => saveResumeToken(welcome.room, welcome.resumeToken),
  );
  const daw = () => session.members.find((m) => m.role === 'daw');
  const ended = () => (session.status.kind === 'ended' ? session.status.reason : null);

  return (
    <Show
      when={ended()}
      fallback={
        <>
          <header>
            <StatusLight status={session.status} rttMs={session.rttMs} />
            <span class="muted" data-testid="room-code">
              {props.room}
            </span>
          </header>
          <Show when={daw()?.state === 'away'}>
            <p class="warning" data-testid="daw-away">
              DAW away — waiting for it to come back…
            </p>
          </Show>
          <section class="lobby">
            <p>
              You are <strong>{props.name}</strong> in room <strong>{props.room}</strong>.
            </p>
            <p class="muted">{session.members.length} in the room.</p>
          </section>
        </>
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
