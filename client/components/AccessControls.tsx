import { createSignal, Show } from 'solid-js';
import { type Access, PIN_PATTERN } from '../../signal/protocol.ts';

/**
 * Who may join the room: a lock (no new players; those already in, or coming back to their
 * place, still can) and an optional 4-digit PIN that new phones are asked for. Shown big enough
 * to read out to a friend across the room.
 */
export function AccessControls(props: { access: Access; onChange(access: Access): void }) {
  const [typed, setTyped] = createSignal('');
  const setPin = (event: SubmitEvent) => {
    event.preventDefault();
    if (PIN_PATTERN.test(typed())) props.onChange({ ...props.access, pin: typed() });
    setTyped('');
  };
  return (
    <div class="access" data-testid="access" data-locked={props.access.locked} data-pin={props.access.pin ?? ''}>
      <label title="No new players can join; players already in (or coming back) still can">
        <input
          type="checkbox"
          data-testid="lock"
          checked={props.access.locked}
          onChange={(event) => props.onChange({ ...props.access, locked: event.currentTarget.checked })}
        />{' '}
        Lock room
      </label>
      <Show
        when={props.access.pin}
        fallback={
          <form class="pin" onSubmit={setPin}>
            <input
              data-testid="pin-setting"
              inputmode="numeric"
              maxlength={4}
              placeholder="PIN"
              aria-label="A 4-digit PIN new phones must type"
              value={typed()}
              onInput={(event) => setTyped(event.currentTarget.value.replace(/\D/g, ''))}
            />
            <button type="submit" class="small" disabled={!PIN_PATTERN.test(typed())}>
              Set PIN
            </button>
          </form>
        }
      >
        {(pin) => (
          <span class="pin">
            PIN{' '}
            <strong class="code" data-testid="pin-shown">
              {pin()}
            </strong>{' '}
            <button type="button" class="small" onClick={() => props.onChange({ ...props.access, pin: null })}>
              No PIN
            </button>
          </span>
        )}
      </Show>
      <Show when={props.access.locked}>
        <span class="warn" data-testid="locked-badge">
          Locked: no new players
        </span>
      </Show>
    </div>
  );
}
