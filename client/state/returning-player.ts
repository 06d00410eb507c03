/**
 * Whether a /join page joins at once (a room code and a usable remembered name) or shows the join
 * form first, and the join a controller sends. Shared by the controller page and by the socket
 * opened before the app runs (client/src/early-join.ts), so the two can never disagree.
 */
import { isReservedName, nameProblem } from '../../signal/protocol.ts';
import type { JoinParams } from '../net/join.ts';
import { savedName, savedResumeToken } from './storage.ts';

/** Why a name cannot be used, shared with the server's rule (signal/protocol.ts), or null. */
export function nameIssue(name: string): string | null {
  const trimmed = name.trim();
  if (isReservedName(trimmed)) return '“DAW” is the laptop’s name: choose another.';
  const problem = nameProblem(trimmed);
  return problem === null ? null : `A name ${problem}.`;
}

/** nameIssue's verdict without its words (the page's first script needs only this). */
function usableName(name: string): boolean {
  const trimmed = name.trim();
  return trimmed !== '' && !isReservedName(trimmed) && nameProblem(trimmed) === null;
}

/** A player who came back to a room's link: their remembered name is used without asking. */
export function joinsAtOnce(room: string | null): boolean {
  return room !== null && usableName(savedName());
}

/** A controller's join of `room` as `name` (and `color`, once picked), resuming its place in this tab if it has one. */
export function controllerJoin(
  room: string,
  deviceId: string,
  name: string,
  color: string | null,
  pin?: string,
): JoinParams {
  const resumeToken = savedResumeToken(room);
  return {
    role: 'controller',
    room,
    deviceId,
    name: name.trim(),
    ...(color === null ? {} : { color }),
    ...(resumeToken === undefined ? {} : { resumeToken }),
    ...(pin === undefined ? {} : { pin }),
  };
}
