import { For, Show } from 'solid-js';
import type { Member } from '../../signal/protocol.ts';
import type { PeerStats } from '../net/daw-peers.ts';
import { formatMs } from './format.ts';

/**
 * Who is in the room: colour, name, state, how their hits travel (P2P or relay), their round
 * trip (the data channel's when there is one, else the signaling socket's) and hit counts.
 */
export function MemberList(props: {
  members: Member[];
  self: string | null;
  stats?: (peerId: string) => PeerStats | undefined;
  onKick?: (peerId: string) => void;
}) {
  return (
    <ul class="members" data-testid="members">
      <For each={props.members}>
        {(member) => {
          const stats = () => props.stats?.(member.peerId);
          const controller = member.role === 'controller';
          const rtt = () => stats()?.rttMs ?? member.rttMs;
          const refused = () => (stats()?.bad ?? 0) + (stats()?.limited ?? 0);
          return (
            <li
              data-testid="member"
              data-peer={member.peerId}
              data-role={member.role}
              data-state={member.state}
              data-transport={controller ? (stats()?.transport ?? 'relay') : undefined}
            >
              <span
                class={`light ${member.state === 'connected' ? 'green' : 'yellow'}`}
                style={{ background: member.color }}
                aria-hidden="true"
              />
              <span class="name">
                {member.name}
                {member.peerId === props.self ? ' (you)' : ''}
              </span>
              <span class="muted">
                {controller
                  ? member.state === 'away'
                    ? 'away'
                    : (stats()?.transport ?? 'relay').toUpperCase()
                  : 'DAW'}
              </span>
              <span class="muted" data-testid="member-rtt">
                {member.state === 'away'
                  ? ''
                  : (() => {
                      const value = rtt();
                      return value === null || value === undefined ? '' : `${formatMs(value)} ms`;
                    })()}
              </span>
              <Show when={controller} fallback={<span />}>
                <span class="counts">
                  <span data-testid="member-hits" title="Hits played">
                    {stats()?.hits ?? 0}
                  </span>{' '}
                  hits
                  {' · '}
                  <span data-testid="member-dropped" title="Dropped on the phone: no way to the DAW in time">
                    {stats()?.dropped ?? 0}
                  </span>{' '}
                  dropped{' · '}
                  <span data-testid="member-lost" title="Sent but never arrived">
                    {stats()?.lost ?? 0}
                  </span>{' '}
                  lost
                  <Show when={refused() > 0}>
                    {' · '}
                    <span
                      class="warn"
                      data-testid="member-refused"
                      title="Malformed packets or signals, and hits over the rate limit: not played"
                    >
                      {refused()}
                    </span>{' '}
                    refused
                  </Show>
                </span>
              </Show>
              <Show when={props.onKick && controller} fallback={<span />}>
                <button type="button" class="small" onClick={() => props.onKick?.(member.peerId)}>
                  Remove
                </button>
              </Show>
            </li>
          );
        }}
      </For>
    </ul>
  );
}
