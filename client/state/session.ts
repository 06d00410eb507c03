/**
 * A room session as Solid state: the signaling client's status, the member list, the room
 * state, kept current from the server's messages. Components read it; actions write.
 */
import { onCleanup } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { Member, RoomState, WelcomeMessage } from '../../signal/protocol.ts';
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
}

export function createSession(join: JoinParams, onWelcome?: (welcome: WelcomeMessage) => void) {
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
    onStatus: (status) => setState('status', status),
    onMessage: (message) => {
      switch (message.type) {
        case 'welcome':
          setState({ room: message.room, peerId: message.peerId, members: message.members, roomState: message.state });
          onWelcome?.(message);
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
    },
  });
  onCleanup(() => signaling.close());

  const actions: SessionActions = {
    kick: (peerId) => {
      signaling.send({ type: 'kick', peer: peerId });
    },
    leave: () => signaling.leave(),
  };
  return [state, actions] as const;
}
