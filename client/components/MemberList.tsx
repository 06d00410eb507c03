import { For, Show } from 'solid-js';
import type { Member } from '../../signal/protocol.ts';
import type { InstrumentId, Part } from '../audio/instruments.ts';
import type { PeerStats } from '../net/daw-peers.ts';
import { formatDelayMs, formatMs, negativeDelayNote } from './format.ts';
import { PartPicker } from './PartPicker.tsx';

/** Their clock minus ours, as people read it: ms when small, seconds when not; no sign on what rounds to 0. */
const formatOffset = (ms: number): string => {
  const text = Math.abs(ms) < 1000 ? `${formatMs(Math.abs(ms))} ms` : `${(Math.abs(ms) / 1000).toFixed(1)} s`;
  return /^0(\.0)? /.test(text) ? `±${text}` : `${ms >= 0 ? '+' : '−'}${text}`;
};

/** A wall-clock time (ms since the epoch) as the laptop's clock shows it. */
const clockTime = (ms: number): string =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** What a controller's floods did, for its row: the blocks in force and what they refused, or that it flooded before. */
function blockedText(stats: PeerStats): string {
  const parts: string[] = [];
  if (stats.channelBlockedUntil !== null) {
    const until = clockTime(stats.channelBlockedUntil);
    parts.push(`direct link closed, new ones refused until ${until} (${stats.refusedOffers} so far)`);
  }
  if (stats.relayBlockedUntil !== null) {
    parts.push(`relayed messages ignored until ${clockTime(stats.relayBlockedUntil)} (${stats.ignored} so far)`);
  }
  if (parts.length > 0) return `Flooded the DAW: ${parts.join('; ')}`;
  return `Flooded the DAW ${stats.floods === 1 ? 'once' : `${stats.floods} times`} (blocked for a while each time)`;
}

/**
 * Who is in the room: colour, name, state, how their hits travel (P2P or relay), their round
 * trip (the data channel's when there is one, else the signaling socket's), their timing (one-way
 * latency, jitter, clock offset; steady mode's delay and late hits) and hit counts; under a
 * controller that flooded the DAW, a line saying what was blocked and until when.
 */
export function MemberList(props: {
  members: Member[];
  self: string | null;
  stats?: (peerId: string) => PeerStats | undefined;
  onKick?: (peerId: string) => void;
  /** The DAW: what each controller plays, and a picker to change it. */
  part?: (peerId: string) => Part;
  onPart?: (peerId: string, instrument: InstrumentId, octave: number) => void;
}) {
  return (
    <ul class="members" data-testid="members">
      <For each={props.members}>
        {(member) => {
          const stats = () => props.stats?.(member.peerId);
          const controller = member.role === 'controller';
          const rtt = () => stats()?.rttMs ?? member.rttMs;
          const refused = () => {
            const s = stats();
            return s ? s.bad + s.limited + s.refusedOffers + s.ignored + s.overbooked : 0;
          };
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
                      data-bad={stats()?.bad ?? 0}
                      data-limited={stats()?.limited ?? 0}
                      data-overbooked={stats()?.overbooked ?? 0}
                      title="Malformed packets or signals, hits over the rate limit, offers and relayed messages while blocked for flooding, hits not played as this player had too many planned ahead, and sounds cut short as this player held the most voices"
                    >
                      {refused()}
                    </span>{' '}
                    refused
                  </Show>
                </span>
              </Show>
              <Show when={controller && props.part && props.onPart} fallback={<span />}>
                <PartPicker
                  part={props.part?.(member.peerId) as Part}
                  onChange={(instrument, octave) => props.onPart?.(member.peerId, instrument, octave)}
                />
              </Show>
              <Show when={props.onKick && controller} fallback={<span />}>
                <button type="button" class="small" onClick={() => props.onKick?.(member.peerId)}>
                  Remove
                </button>
              </Show>
              <Show when={controller && (stats()?.floods ?? 0) > 0 && stats()}>
                {(s) => (
                  <p
                    class="warning blocked"
                    data-testid="member-blocked"
                    data-blocked={[
                      s().channelBlockedUntil !== null ? 'channel' : '',
                      s().relayBlockedUntil !== null ? 'relay' : '',
                    ]
                      .filter(Boolean)
                      .join(' ')}
                    data-floods={s().floods}
                    data-refused-offers={s().refusedOffers}
                    data-ignored={s().ignored}
                    title="Sent the DAW more packets than any player could (see docs/protocol.md): its direct link is closed and its offers refused, or its relayed messages ignored, for a while that doubles with each flood"
                  >
                    {blockedText(s())}
                  </p>
                )}
              </Show>
            </li>
          );
        }}
      </For>
    </ul>
  );
}
