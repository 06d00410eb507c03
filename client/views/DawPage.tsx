import { createResource, Show } from 'solid-js';
import { EndScreen } from '../components/EndScreen.tsx';
import { MemberList } from '../components/MemberList.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { StatusLight } from '../components/StatusLight.tsx';
import type { JoinParams } from '../net/signaling.ts';
import { joinPath } from '../src/routes.ts';
import { createSession } from '../state/session.ts';
import { deviceId, saveDawRoom, savedDawRoom } from '../state/storage.ts';

/**
 * The origin phones can reach this page at. The DAW page is usually on localhost, so the
 * server tells us the laptop's LAN address; the port stays this page's own (in `npm run
 * dev` that is Vite's, not the signal server's).
 */
async function lanOrigin(): Promise<string> {
  const onLan = location.hostname !== 'localhost' && location.hostname !== '127.0.0.1' && location.hostname !== '[::1]';
  if (onLan) return location.origin;
  try {
    const reply = await fetch('/api/lan');
    const { hosts } = (await reply.json()) as { hosts?: unknown };
    const [host] = Array.isArray(hosts) ? hosts : [];
    if (typeof host === 'string') {
      const hostPart = host.includes(':') ? `[${host}]` : host;
      return `${location.protocol}//${hostPart}${location.port ? `:${location.port}` : ''}`;
    }
  } catch {
    // Fall through: show what we have.
  }
  return location.origin;
}

export function DawPage(props: { navigate: (path: string) => void }) {
  const saved = savedDawRoom();
  const join: JoinParams = { role: 'daw', deviceId: deviceId() };
  if (saved) Object.assign(join, saved);
  const [session, actions] = createSession(join, (welcome) => {
    if (welcome.hostToken) saveDawRoom({ room: welcome.room, hostToken: welcome.hostToken });
  });
  const [origin] = createResource(lanOrigin);
  const joinUrl = () => (session.room && origin() ? `${origin()}${joinPath(session.room)}` : null);
  const controllers = () => session.members.filter((m) => m.role === 'controller');

  const newRoom = () => {
    actions.leave();
    saveDawRoom(null);
    // A fresh page load starts a fresh session (and a new room).
    location.assign('/daw');
  };

  const ended = () => (session.status.kind === 'ended' ? session.status.reason : null);

  return (
    <main class="daw">
      <Show
        when={ended()}
        fallback={
          <>
            <header>
              <StatusLight status={session.status} rttMs={session.rttMs} />
              <button type="button" class="small" onClick={newRoom}>
                New room
              </button>
            </header>
            <section class="room">
              <div>
                <p class="muted">Room code</p>
                <p class="code" data-testid="room-code">
                  {session.room ?? '······'}
                </p>
                <p class="muted">Phones join at</p>
                <p class="url" data-testid="join-url">
                  {joinUrl() ?? '…'}
                </p>
              </div>
              <Show when={joinUrl()}>{(url) => <QrCode text={url()} label={`QR code for ${url()}`} />}</Show>
            </section>
            <section>
              <h2>
                Players <span class="muted">{controllers().length}</span>
              </h2>
              <MemberList members={session.members} self={session.peerId} onKick={actions.kick} />
            </section>
          </>
        }
      >
        {(reason) => (
          <EndScreen reason={reason()}>
            <button type="button" class="big primary" onClick={newRoom}>
              Start a new room
            </button>
            <button type="button" class="big" onClick={() => props.navigate('/')}>
              Home
            </button>
          </EndScreen>
        )}
      </Show>
    </main>
  );
}
