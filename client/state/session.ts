/**
 * A room session as Solid state: the signaling client's status, the member list, the room
 * state, kept current from the server's messages. Components read it; actions write.
 */
import { onCleanup } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { Member, RoomState, ServerMessage, WelcomeMessage } from '../../signal/protocol.ts';
import { createSignaling, type JoinParams, type SignalingStatus } from '../net/signaling.ts';

export interface SessionState {
  status: SignalingStatus;
  room: string | null;
  peerId: string | null;
  members: Member[];
  roomState: RoomState | undefined;
  rttMs: number | null;
}

export interface SessionActions {
  kick(peerId: string): void;
  leave(): void;
  /** Our new name and/or colour (queued while reconnecting). */
  setProfile(profile: { name?: string; color?: string }): void;
  /** DAW: the room state controllers mirror (queued while reconnecting; the newest wins). */
  setRoomState(roomState: RoomState): void;
}

export interface SessionHooks {
  onWelcome?(welcome: WelcomeMessage): void;
  /** Every server message, after the store has taken it in (the peer layer listens here). */
  onMessage?(message: ServerMessage): void;
  onStatus?(status: SignalingStatus): void;
}

export function createSession(join: JoinParams, hooks: SessionHooks = {}) {
  const [state, setState] = createStore<SessionState>({
    status: { kind: 'connecting' },
    room: join.room ?? null,
    peerId: null,
    members: [],
    roomState: undefined,
    rttMs: null,
  });

  const signaling = createSignaling({
    join,
    onStatus: (status) => {
      setState('status', status);
      hooks.onStatus?.(status);
    },
    onMessage: (message) => {
      switch (message.type) {
        case 'welcome':
          setState({ room: message.room, peerId: message.peerId, members: message.members, roomState: message.state });
          hooks.onWelcome?.(message);
          break;
        case 'member-joined':
          setState('members', (members) => [
            ...members.filter((m) => m.peerId !== message.member.peerId),
            message.member,
          ]);
          break;
        case 'member-updated':
          setState(
            'members',
            (m) => m.peerId === message.member.peerId,
            () => message.member,
          );
          break;
        case 'member-left':
          setState('members', (members) => members.filter((m) => m.peerId !== message.peerId));
          break;
        case 'state':
          setState('roomState', message.state);
          break;
        case 'pong':
          setState('rttMs', signaling.rttMs);
          break;
      }
      hooks.onMessage?.(message);
    },
  });
  onCleanup(() => signaling.close());

  const actions: SessionActions = {
    kick: (peerId) => {
      signaling.send({ type: 'kick', peer: peerId });
    },
    leave: () => signaling.leave(),
    setProfile: (profile) => {
      signaling.setProfile(profile);
      // The server tells everyone else; our own row changes here.
      setState('members', (m) => m.peerId === state.peerId, profile);
    },
    setRoomState: (roomState) => {
      setState('roomState', roomState);
      signaling.send({ type: 'state', state: roomState });
    },
  };
  return [state, actions, signaling] as const;
}
