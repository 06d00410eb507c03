/**
 * Whether a /join page joins at once (a room code and a usable remembered name) or shows the join
 * form first. Shared by the controller page and by the socket opened before it renders
 * (client/src/early-join.ts), so the two can never disagree.
 */
import { isReservedName, nameProblem } from '../../signal/protocol.ts';
import { savedName } from './storage.ts';

/** Why a name cannot be used, shared with the server's rule (signal/protocol.ts), or null. */
export function nameIssue(name: string): string | null {
  const trimmed = name.trim();
  if (isReservedName(trimmed)) return '“DAW” is the laptop’s name: choose another.';
  const problem = nameProblem(trimmed);
  return problem === null ? null : `A name ${problem}.`;
}

/** A player who came back to a room's link: their remembered name is used without asking. */
export function joinsAtOnce(room: string | null): boolean {
  const name = savedName();
  return room !== null && name !== '' && nameIssue(name) === null;
}
