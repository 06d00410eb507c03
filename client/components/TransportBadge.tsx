import { Show } from 'solid-js';
import type { Transport } from '../net/controller-link.ts';
import type { TimingReport } from '../net/hits.ts';
import { formatDelayMs, formatMs, negativeDelayNote } from './format.ts';

const LOOK: Record<Transport, { label: string; title: string }> = {
  p2p: { label: 'P2P', title: 'Hits go straight to the DAW' },
  relay: { label: 'Relay', title: 'No direct link yet: hits go through the server (a little slower); still trying' },
  connecting: { label: 'Linking…', title: 'Making a direct link to the DAW; hits go through the server meanwhile' },
  offline: { label: 'Offline', title: 'No way to the DAW right now' },
};

/**
 * How this phone's hits travel, and how fast: one-way latency ± jitter as the DAW measured
 * it (its TIMING report) once there is one, else the round trip. In steady mode, the fixed
 * tap → sound delay. The tooltip says why a direct link last ended, and the output latency.
 */
export function TransportBadge(props: {
  transport: Transport;
  rttMs: number | null;
  timing?: TimingReport | null;
  lastEnd?: string | null;
}) {
  const timing = () => (props.transport === 'p2p' ? (props.timing ?? null) : null);
  const title = () => {
    const base = props.lastEnd
      ? `${LOOK[props.transport].title} (last link: ${props.lastEnd})`
      : LOOK[props.transport].title;
    const t = timing();
    if (!t) return base;
    const mode = t.steady
      ? `Steady mode: every hit sounds ${formatMs(t.steadyDelayMs)} ms after your tap, so your spacing is kept`
      : 'Hits sound when they arrive: one-way latency ± jitter';
    const negative = negativeDelayNote(t.oneWayMs);
    const clock = t.synced
      ? ` This phone's clock is ${formatMs(Math.abs(t.offsetMs))} ms ${t.offsetMs >= 0 ? 'ahead of' : 'behind'} the laptop's (taken into account).`
      : '';
    return `${base}. ${mode}; the laptop's audio output adds ${formatMs(t.outputLatencyMs)} ms.${clock}${negative ? ` ${negative}` : ''}`;
  };
  return (
    <span
      class={`badge ${props.transport}`}
      data-testid="transport"
      data-transport={props.transport}
      data-last-end={props.lastEnd ?? ''}
      title={title()}
    >
      {LOOK[props.transport].label}
      <Show
        when={timing()}
        fallback={
          props.rttMs !== null && props.transport !== 'offline' ? (
            <span class="muted" data-testid="rtt">
              {' '}
              {formatMs(props.rttMs)} ms
            </span>
          ) : null
        }
      >
        {(t) => (
          <span
            class="muted"
            data-testid="timing-badge"
            data-one-way-ms={t().oneWayMs.toFixed(2)}
            data-jitter-ms={t().jitterMs.toFixed(2)}
            data-mode={t().steady ? 'steady' : 'instant'}
          >
            {' '}
            {/* The DAW's clock estimate is about as uncertain as half this channel's round trip. */}
            {formatDelayMs(t().oneWayMs, props.rttMs === null ? null : props.rttMs / 2)}±{formatMs(t().jitterMs)} ms
            {t().steady ? ` · steady ${formatMs(t().steadyDelayMs)} ms` : ''}
          </span>
        )}
      </Show>
    </span>
  );
}
