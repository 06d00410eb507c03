import { createSignal } from 'solid-js';
import { normalizeRoomCode } from '../../signal/protocol.ts';
import { RoomCodeInput } from '../components/RoomCodeInput.tsx';
import { joinPath } from '../src/routes.ts';

export function StartPage(props: { navigate: (path: string) => void }) {
  const [code, setCode] = createSignal('');
  const valid = () => normalizeRoomCode(code()) !== null;

  return (
    <main class="start">
      <h1>padmesh</h1>
      <p class="muted">Phones become drum pads for this computer, over your WiFi. No internet needed.</p>
      <button type="button" class="big primary" data-testid="start-daw" onClick={() => props.navigate('/daw')}>
        Start a jam here
        <small>this computer plays the sound</small>
      </button>
      <form
        class="join-form"
        onSubmit={(event) => {
          event.preventDefault();
          const room = normalizeRoomCode(code());
          if (room) props.navigate(joinPath(room));
        }}
      >
        <label for="code">Join with a code</label>
        <RoomCodeInput value={code()} onInput={setCode} />
        <button type="submit" class="big" disabled={!valid()}>
          Join
        </button>
      </form>
    </main>
  );
}
