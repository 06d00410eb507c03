/**
 * What a peer puts in a `signal` message's `data`: simple-peer's SDP/ICE object, tagged with
 * the id of the connection attempt it belongs to. Signals cross a socket that reconnects and
 * queues, so an answer or candidate can arrive for an attempt already given up; the tag lets
 * both ends ignore those instead of feeding them to the wrong connection.
 */
export interface SignalEnvelope {
  /** Connection attempt id, made by the controller (the initiator). */
  c: string;
  /** simple-peer's signal object (offer, answer, candidate…). */
  s: object;
}

const ATTEMPT_ID = /^[\w-]{1,32}$/;

export function readEnvelope(data: unknown): SignalEnvelope | null {
  if (typeof data !== 'object' || data === null) return null;
  const { c, s } = data as Partial<Record<'c' | 's', unknown>>;
  if (typeof c !== 'string' || !ATTEMPT_ID.test(c) || typeof s !== 'object' || s === null || Array.isArray(s)) {
    return null;
  }
  return { c, s };
}

/** An offer (with an SDP) starts a new connection at the answering end; anything else belongs to one. */
export function isOffer(signal: object): boolean {
  const { type, sdp } = signal as { type?: unknown; sdp?: unknown };
  return type === 'offer' && typeof sdp === 'string';
}
