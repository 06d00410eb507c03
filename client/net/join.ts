/**
 * How a signaling socket joins: where it connects, and the `join` it sends first. Used by the
 * signaling client for every socket it makes, and by the page's first script
 * (client/src/early-join.ts) for the one it opens before the app has loaded. The client takes that
 * socket over only if it would have sent the very same text (client/net/early-socket.ts), so the
 * two cannot differ. Kept apart from signaling.ts so that first script stays small.
 */
import { type ClientMessages, PROTOCOL_VERSION, type Role, SOCKET_PATH } from '../../signal/protocol.ts';

/** The signal server's socket on the host this page came from. */
export function defaultSignalingUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${SOCKET_PATH}`;
}

export interface JoinParams {
  role: Role;
  deviceId: string;
  room?: string;
  name?: string;
  color?: string;
  hostToken?: string;
  resumeToken?: string;
  /** The room's PIN, when its DAW set one (asked of new members). */
  pin?: string;
}

/** The join message for `params`, as sent: its fields always in the same order. */
export function joinText(params: Readonly<JoinParams>): string {
  const join: ClientMessages['join'] = {
    type: 'join',
    v: PROTOCOL_VERSION,
    role: params.role,
    deviceId: params.deviceId,
  };
  if (params.room !== undefined) join.room = params.room;
  if (params.name !== undefined) join.name = params.name;
  if (params.color !== undefined) join.color = params.color;
  if (params.hostToken !== undefined) join.hostToken = params.hostToken;
  if (params.resumeToken !== undefined) join.resumeToken = params.resumeToken;
  if (params.pin !== undefined) join.pin = params.pin;
  return JSON.stringify(join);
}
