import { For, Show } from 'solid-js';
import type { Member } from '../../signal/protocol.ts';
import type { PeerStats } from '../net/daw-peers.ts';
import { formatDelayMs, formatMs, negativeDelayNote } from './format.ts';

/** Their clock minus ours, as people read it: ms when small, seconds when not. */
const formatOffset = (ms: number): string =>
  Math.abs(ms) < 1000
    ? `${ms >= 0 ? '+' : '−'}${formatMs(Math.abs(ms))} ms`
    : `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(1)} s`;

/**
 * Who is in the room: colour, name, state, how their hits travel (P2P or relay), their round
 * trip (the data channel's when there is one, else the signaling socket's), their timing (one-way
 * latency, jitter, clock offset; steady mode's delay and late hits) and hit counts.
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
              <Show when={controller && stats()} fallback={<span />}>
                {(s) => (
                  <span class="timing-figures muted">
                    <Show when={s().oneWayMs !== null}>
                      <span
                        title={`Median one-way delay of recent hits ± jitter (RFC 3550): how unevenly they arrive. ${negativeDelayNote(s().oneWayMs ?? 0)}`}
                      >
                        <span data-testid="member-one-way" data-one-way-ms={s().oneWayMs?.toFixed(2)}>
                          {formatDelayMs(s().oneWayMs ?? 0, s().clockErrorMs)}
                        </span>
                        <span data-testid="member-jitter">±{formatMs(s().jitterMs ?? 0)}</span> ms
                      </span>
                    </Show>
                    <Show when={s().offsetMs !== null}>
                      <span
                        data-testid="member-offset"
                        data-offset-ms={s().offsetMs?.toFixed(2)}
                        data-clock-error-ms={s().clockErrorMs?.toFixed(2)}
                        title={`Their clock minus this computer's (drift ${(s().driftPpm ?? 0).toFixed(0)} ppm)`}
                      >
                        clock {formatOffset(s().offsetMs ?? 0)}
                      </span>
                    </Show>
                    <Show when={s().steadyDelayMs !== null}>
                      <span data-testid="member-steady-delay" title="Steady mode: fixed delay from tap to sound">
                        steady {s().steadyDelayMs} ms
                      </span>
                    </Show>
                    <Show when={s().late > 0}>
                      <span
                        class="warn"
                        data-testid="member-late"
                        title="Too late for the steady window: played at once"
                      >
                        {s().late} late
                      </span>
                    </Show>
                  </span>
                )}
              </Show>
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
