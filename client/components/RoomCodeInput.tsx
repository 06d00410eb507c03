import { ROOM_CODE_LENGTH } from '../../signal/protocol.ts';

/** The room-code field: capitals on phone keyboards, no autocorrect, room for a dash. */
export function RoomCodeInput(props: { value: string; onInput: (value: string) => void }) {
  return (
    <input
      id="code"
      data-testid="code-input"
      autocapitalize="characters"
      autocomplete="off"
      spellcheck={false}
      maxlength={ROOM_CODE_LENGTH + 2}
      placeholder="ABC123"
      value={props.value}
      onInput={(event) => props.onInput(event.currentTarget.value)}
    />
  );
}
