import { For, Show } from 'solid-js';
import type { Member } from '../../signal/protocol.ts';

/** Who is in the room: name, role, state and socket round trip. */
export function MemberList(props: { members: Member[]; self: string | null; onKick?: (peerId: string) => void }) {
  return (
    <ul class="members" data-testid="members">
      <For each={props.members}>
        {(member) => (
          <li data-testid="member" data-peer={member.peerId} data-role={member.role} data-state={member.state}>
            <span class={`light ${member.state === 'connected' ? 'green' : 'yellow'}`} aria-hidden="true" />
            <span class="name">
              {member.name}
              {member.peerId === props.self ? ' (you)' : ''}
            </span>
            <span class="muted">{member.role === 'daw' ? 'DAW' : 'pads'}</span>
            <span class="muted">
              {member.state === 'away' ? 'away' : member.rttMs === null ? '' : `${member.rttMs.toFixed(0)} ms`}
            </span>
            <Show when={props.onKick && member.role === 'controller'}>
              <button type="button" class="small" onClick={() => props.onKick?.(member.peerId)}>
                Remove
              </button>
            </Show>
          </li>
        )}
      </For>
    </ul>
  );
}
