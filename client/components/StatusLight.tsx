import type { SignalingStatus } from '../net/signaling.ts';

const LOOK: Record<SignalingStatus['kind'], { color: 'green' | 'yellow' | 'red'; label: string }> = {
  connected: { color: 'green', label: 'Connected' },
  connecting: { color: 'yellow', label: 'Connecting…' },
  reconnecting: { color: 'red', label: 'Reconnecting…' },
  ended: { color: 'red', label: 'Disconnected' },
};

/** Green, yellow or red, with words: colour alone is not enough for everyone. */
export function StatusLight(props: { status: SignalingStatus; rttMs?: number | null }) {
  const look = () => LOOK[props.status.kind];
  return (
    <output class="status" data-testid="status" data-state={props.status.kind} aria-live="polite">
      <span class={`light ${look().color}`} aria-hidden="true" />
      <span class="status-label">{look().label}</span>
      {props.status.kind === 'connected' && props.rttMs != null ? (
        <span class="muted" data-testid="rtt">
          {props.rttMs.toFixed(0)} ms
        </span>
      ) : null}
    </output>
  );
}
