import type { JSX } from 'solid-js';
import { ErrorCode } from '../../signal/protocol.ts';
import type { EndReason } from '../net/signaling.ts';

/** What to tell a person whose connection ended for good, in their words, not ours. */
export function endMessage(reason: EndReason): { title: string; detail: string } {
  switch (reason.kind) {
    case 'kicked':
      return { title: 'You were removed from the jam', detail: reason.reason };
    case 'session-closed':
      return reason.reason === 'ended'
        ? { title: 'The jam has ended', detail: 'The DAW closed the room.' }
        : { title: 'The jam has ended', detail: 'The DAW did not come back in time.' };
    case 'replaced':
      return { title: 'Open in another tab', detail: 'This device joined again from another tab or window.' };
    case 'left':
      return { title: 'You left the jam', detail: '' };
    case 'refused':
      switch (reason.code) {
        case ErrorCode.ROOM_NOT_FOUND:
          return { title: 'No jam with that code', detail: 'Check the code on the DAW screen and try again.' };
        case ErrorCode.ROOM_FULL:
          return { title: 'This jam is full', detail: 'Ask the DAW to remove someone, or wait for a free place.' };
        case ErrorCode.ROLE_TAKEN:
          return { title: 'This room’s DAW is open elsewhere', detail: 'Close it there first.' };
        case ErrorCode.VERSION_MISMATCH:
          return { title: 'Out of date', detail: 'Reload the page to get the current version.' };
        case ErrorCode.BANNED:
          return { title: 'You were removed from this jam', detail: 'The DAW removed this phone from the room.' };
        case ErrorCode.ROOM_LOCKED:
          return { title: 'This jam is locked', detail: 'The DAW is not letting new players in right now.' };
        case ErrorCode.PIN_REQUIRED:
          return { title: 'This jam asks for a PIN', detail: reason.message };
        default:
          return { title: 'Could not join', detail: reason.message };
      }
    case 'closed':
      return { title: 'Disconnected', detail: `The connection closed (${reason.code}).` };
  }
}

export function EndScreen(props: { reason: EndReason; children?: JSX.Element }) {
  const message = () => endMessage(props.reason);
  return (
    <section class="end" data-testid="end" data-reason={props.reason.kind}>
      <h1>{message().title}</h1>
      <p class="muted">{message().detail}</p>
      <div class="actions">{props.children}</div>
    </section>
  );
}
