import type { Transport } from '../net/controller-link.ts';
import { formatMs } from './format.ts';

const LOOK: Record<Transport, { label: string; title: string }> = {
  p2p: { label: 'P2P', title: 'Hits go straight to the DAW' },
  relay: { label: 'Relay', title: 'No direct link yet: hits go through the server (a little slower); still trying' },
  connecting: { label: 'Linking…', title: 'Making a direct link to the DAW; hits go through the server meanwhile' },
  offline: { label: 'Offline', title: 'No way to the DAW right now' },
};

/** How this phone's hits travel, and their round trip; the tooltip says why a direct link last ended. */
export function TransportBadge(props: { transport: Transport; rttMs: number | null; lastEnd?: string | null }) {
  return (
    <span
      class={`badge ${props.transport}`}
      data-testid="transport"
      data-transport={props.transport}
      data-last-end={props.lastEnd ?? ''}
      title={
        props.lastEnd ? `${LOOK[props.transport].title} (last link: ${props.lastEnd})` : LOOK[props.transport].title
      }
    >
      {LOOK[props.transport].label}
      {props.rttMs !== null && props.transport !== 'offline' ? (
        <span class="muted" data-testid="rtt">
          {' '}
          {formatMs(props.rttMs)} ms
        </span>
      ) : null}
    </span>
  );
}
