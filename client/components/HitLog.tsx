import { createMemo, Show } from 'solid-js';
import type { Member } from '../../signal/protocol.ts';
import { RECENT_HITS, type RecentHit } from '../state/jam.ts';
import { formatDelayMs, negativeDelayNote } from './format.ts';
import type { PadLook } from './PadGrid.tsx';

/**
 * The last hits, newest first: who, which pad, how hard, which way it came (and, in its tooltip, how long it took).
 * Its rows are kept and rewritten in place (made once, by position; not a keyed list): while hits come in,
 * every redraw brings a whole list of new hits, and making those rows afresh each time was most of the DAW
 * page's longest tasks. No list helper (Index) either: it would land in the chunk the phones load too.
 */
export function HitLog(props: {
  hits: readonly RecentHit[];
  members: readonly Member[];
  pads: readonly PadLook[];
  /** A melodic player's own pads (their notes), else undefined: the kit's. */
  padsOf?: (peerId: string) => readonly PadLook[] | undefined;
}) {
  // Names by peerId, once per change of the members: a search of the members' store from every row
  // at each redraw was most of the redraw's JavaScript (a proxy read per member per row).
  const names = createMemo(() => new Map(props.members.map((member) => [member.peerId, member.name])));
  const who = (peerId: string | null) => (peerId === null ? 'this computer' : (names().get(peerId) ?? peerId));
  const padName = (peerId: string | null, pad: number) => {
    const pads = (peerId === null ? undefined : props.padsOf?.(peerId)) ?? props.pads;
    return pads[pad]?.name ?? `pad ${pad + 1}`;
  };
  const delayText = (delayMs: number | null) => (delayMs === null ? '' : delayMs.toFixed(2));
  const delayTitle = (delayMs: number | null) =>
    delayMs === null
      ? undefined
      : `${formatDelayMs(delayMs, null)} ms from the tap to here. ${negativeDelayNote(delayMs)}`;
  return (
    <ol class="hit-log" data-testid="hit-log">
      {Array.from({ length: RECENT_HITS }, (_, index) => (
        <Show when={props.hits[index]}>
          {(hit) => (
            <li
              data-testid="hit"
              data-peer={hit().peerId ?? ''}
              data-pad={hit().pad}
              data-velocity={hit().velocity}
              data-via={hit().via}
              data-delay-ms={delayText(hit().delayMs)}
              title={delayTitle(hit().delayMs)}
            >
              <span class="name">{who(hit().peerId)}</span> <span>{padName(hit().peerId, hit().pad)}</span>{' '}
              <span class="muted">
                {hit().velocity} · {hit().via}
              </span>
            </li>
          )}
        </Show>
      ))}
    </ol>
  );
}
