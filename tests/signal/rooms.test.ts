/**
 * The pure room registry, driven with plain objects as connections and an explicit clock:
 * no sockets, no timers.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, type JoinMessage, type ServerMessage } from '../../signal/protocol.ts';
import { type Effects, type JoinContext, RoomRegistry } from '../../signal/rooms.ts';
import { createTokenSigner } from '../../signal/tokens.ts';

interface Conn {
  name: string;
}
const conn = (name: string): Conn => ({ name });

const SECRET = 'registry-test-secret-0123456789';
const context = (now = 1000, address = '10.0.0.2'): JoinContext => ({
  now,
  address,
  iceServers: [],
  heartbeatMs: 5000,
});

function sequence(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

function registry(overrides: Partial<ConstructorParameters<typeof RoomRegistry>[0]> = {}): RoomRegistry<Conn> {
  const codes = ['ACDEF3', 'ACDEF4', 'ACDEF6', 'ACDEF7'];
  return new RoomRegistry<Conn>({
    signer: createTokenSigner(SECRET),
    roomCapacity: 3,
    maxRooms: 10,
    maxRoomsPerAddress: 5,
    dawGraceMs: 60_000,
    resumeWindowMs: 30_000,
    newRoomCode: () => codes.shift() ?? 'ACDEF9',
    newPeerId: sequence('peer'),
    ...overrides,
  });
}

const join = (fields: Partial<JoinMessage>): JoinMessage => ({
  type: 'join',
  v: 1,
  role: 'controller',
  deviceId: 'device-default',
  ...fields,
});

/** Messages delivered to `c` by these effects. */
function to(effects: Effects<Conn>, c: Conn): ServerMessage[] {
  return effects.deliveries.filter((d) => d.to.includes(c)).map((d) => d.message);
}

function ok<T extends { ok: boolean }>(outcome: T): Extract<T, { ok: true }> {
  if (!outcome.ok) throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome as Extract<T, { ok: true }>;
}

describe('RoomRegistry', () => {
  let rooms: RoomRegistry<Conn>;
  const daw = conn('daw');
  beforeEach(() => {
    rooms = registry();
  });

  function openRoom() {
    return ok(rooms.join(daw, join({ role: 'daw', deviceId: 'laptop-1' }), context())).welcome;
  }

  it('creates a room for a DAW that names none, with a hostToken', () => {
    const welcome = openRoom();
    expect(welcome).toMatchObject({ room: 'ACDEF3', role: 'daw', peerId: 'peer1' });
    expect(welcome.hostToken).toBe(welcome.resumeToken);
    expect(welcome.members).toEqual([
      {
        peerId: 'peer1',
        role: 'daw',
        name: 'DAW',
        color: '#eef0f5',
        deviceId: 'laptop-1',
        joinedAt: 1000,
        state: 'connected',
        rttMs: null,
      },
    ]);
    expect(rooms.roomCount).toBe(1);
  });

  it('lets controllers in, tells the room, and fills up', () => {
    const { room } = openRoom();
    const phones = [conn('a'), conn('b'), conn('c')];
    phones.forEach((phone, i) => {
      const outcome = ok(rooms.join(phone, join({ room: room.toLowerCase(), deviceId: `phone-${i}` }), context()));
      expect(outcome.welcome.members).toHaveLength(i + 2);
      expect(to(outcome.effects, daw)).toEqual([
        { type: 'member-joined', member: expect.objectContaining({ name: `Player ${i + 1}` }) },
      ]);
      expect(to(outcome.effects, phone)).toEqual([]);
    });
    expect(rooms.join(conn('d'), join({ room, deviceId: 'phone-9' }), context())).toMatchObject({
      ok: false,
      error: { code: ErrorCode.ROOM_FULL },
    });
  });

  it('answers ROOM_NOT_FOUND for unknown or malformed codes, and asks controllers for a room', () => {
    expect(rooms.join(conn('x'), join({ room: 'ACDEF3' }), context())).toMatchObject({
      error: { code: ErrorCode.ROOM_NOT_FOUND },
    });
    expect(rooms.join(conn('x'), join({ room: '!!' }), context())).toMatchObject({
      error: { code: ErrorCode.ROOM_NOT_FOUND },
    });
    expect(rooms.join(conn('x'), join({}), context())).toMatchObject({ error: { code: ErrorCode.INVALID_MESSAGE } });
  });

  it('keeps one member per device: a second connection from the same address replaces the first', () => {
    const { room } = openRoom();
    const first = conn('first');
    const second = conn('second');
    const joined = ok(rooms.join(first, join({ room, deviceId: 'phone-1' }), context()));
    const again = ok(rooms.join(second, join({ room, deviceId: 'phone-1' }), context()));
    expect(again.welcome.peerId).toBe(joined.welcome.peerId);
    expect(again.welcome.members).toHaveLength(2);
    expect(again.effects.closings).toEqual([{ conn: first, code: CloseCode.REPLACED, reason: expect.any(String) }]);
    expect(to(again.effects, daw)).toEqual([]); // no churn
    expect(rooms.binding(first)).toBeUndefined();
    expect(rooms.disconnect(first, 2000)).toEqual({ deliveries: [], closings: [] });
  });

  it('does not let another address take a deviceId over without its token', () => {
    const { room } = openRoom();
    const joined = ok(rooms.join(conn('a'), join({ room, deviceId: 'phone-1' }), context(1000, '10.0.0.2')));
    expect(rooms.join(conn('b'), join({ room, deviceId: 'phone-1' }), context(1000, '10.0.0.3'))).toMatchObject({
      error: { code: ErrorCode.UNAUTHORIZED },
    });
    const withToken = ok(
      rooms.join(
        conn('b'),
        join({ room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken }),
        context(1000, '10.0.0.3'),
      ),
    );
    expect(withToken.welcome.peerId).toBe(joined.welcome.peerId);
  });

  it('resumes an away controller with its token, without left/joined churn', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const joined = ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    const away = rooms.disconnect(phone, 2000);
    expect(to(away, daw)).toEqual([{ type: 'member-updated', member: expect.objectContaining({ state: 'away' }) }]);
    expect(to(rooms.sweep(2000 + 29_999), daw)).toEqual([]);
    const back = ok(
      rooms.join(
        conn('phone2'),
        join({ room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken }),
        context(31_000, '10.9.9.9'),
      ),
    );
    expect(back.welcome.peerId).toBe(joined.welcome.peerId);
    expect(to(back.effects, daw)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ state: 'connected' }) },
    ]);
    expect(to(rooms.sweep(100_000), daw)).toEqual([]);
  });

  it('gives an away controller up after the resume window (member-left timeout)', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const joined = ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    rooms.disconnect(phone, 2000);
    expect(to(rooms.sweep(32_000), daw)).toEqual([
      { type: 'member-left', peerId: joined.welcome.peerId, reason: 'timeout' },
    ]);
    expect(rooms.memberCount).toBe(1);
    // Its token still names its peerId: it comes back as that peer, announced as a join.
    const back = ok(
      rooms.join(
        conn('phone2'),
        join({ room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken }),
        context(40_000),
      ),
    );
    expect(back.welcome.peerId).toBe(joined.welcome.peerId);
    expect(to(back.effects, daw)).toEqual([
      { type: 'member-joined', member: expect.objectContaining({ peerId: joined.welcome.peerId }) },
    ]);
  });

  it('holds a room through its grace period when the DAW drops, then closes it', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room }), context()));
    expect(to(rooms.disconnect(daw, 5000), phone)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ role: 'daw', state: 'away' }) },
    ]);
    expect(rooms.sweep(64_999).deliveries).toEqual([]);
    const closed = rooms.sweep(65_000);
    expect(to(closed, phone)).toEqual([{ type: 'session-closed', reason: 'host-timeout' }]);
    expect(closed.closings).toEqual([{ conn: phone, code: CloseCode.SESSION_CLOSED, reason: expect.any(String) }]);
    expect(rooms.roomCount).toBe(0);
    expect(rooms.memberCount).toBe(0);
  });

  it('gives the room back to a DAW with its hostToken, and refuses one without', () => {
    const welcome = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room: welcome.room }), context()));
    rooms.disconnect(daw, 5000);
    expect(
      rooms.join(conn('x'), join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1' }), context()),
    ).toMatchObject({
      error: { code: ErrorCode.UNAUTHORIZED },
      closeCode: CloseCode.UNAUTHORIZED,
    });
    const forged = `${welcome.hostToken?.slice(0, -3)}abc`;
    expect(
      rooms.join(
        conn('x'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: forged }),
        context(),
      ),
    ).toMatchObject({ error: { code: ErrorCode.UNAUTHORIZED } });
    const back = ok(
      rooms.join(
        conn('daw2'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-2', hostToken: welcome.hostToken }),
        context(),
      ),
    );
    expect(back.welcome.peerId).toBe(welcome.peerId);
    expect(to(back.effects, phone)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ role: 'daw', state: 'connected' }) },
    ]);
  });

  it('answers ROLE_TAKEN when the DAW is live on another device, and replaces it on the same one', () => {
    const welcome = openRoom();
    const fields = { role: 'daw' as const, room: welcome.room, hostToken: welcome.hostToken as string };
    expect(rooms.join(conn('other'), join({ ...fields, deviceId: 'laptop-2' }), context())).toMatchObject({
      error: { code: ErrorCode.ROLE_TAKEN },
    });
    const reload = ok(rooms.join(conn('reload'), join({ ...fields, deviceId: 'laptop-1' }), context()));
    expect(reload.effects.closings).toEqual([{ conn: daw, code: CloseCode.REPLACED, reason: expect.any(String) }]);
  });

  it('recreates a room it does not know from a valid hostToken (after a restart)', () => {
    const welcome = openRoom();
    const phone = conn('phone');
    const phoneWelcome = ok(rooms.join(phone, join({ room: welcome.room, deviceId: 'phone-1' }), context())).welcome;

    const restarted = registry({ newPeerId: sequence('fresh') });
    const controller = join({ room: welcome.room, deviceId: 'phone-1', resumeToken: phoneWelcome.resumeToken });
    expect(restarted.join(conn('p'), controller, context())).toMatchObject({
      error: { code: ErrorCode.ROOM_NOT_FOUND },
    });
    const dawBack = ok(
      restarted.join(
        conn('daw'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: welcome.hostToken }),
        context(),
      ),
    );
    expect(dawBack.welcome).toMatchObject({ room: welcome.room, peerId: welcome.peerId });
    const phoneBack = ok(restarted.join(conn('p'), controller, context()));
    expect(phoneBack.welcome.peerId).toBe(phoneWelcome.peerId);
  });

  it('lets only the DAW kick, revokes the kicked token, and tells everyone', () => {
    const { room } = openRoom();
    const a = conn('a');
    const b = conn('b');
    const aWelcome = ok(rooms.join(a, join({ room, deviceId: 'phone-a' }), context())).welcome;
    ok(rooms.join(b, join({ room, deviceId: 'phone-b' }), context()));
    expect(rooms.kick(b, aWelcome.peerId, 'no')).toMatchObject({ error: { code: ErrorCode.UNAUTHORIZED } });
    expect(rooms.kick(daw, 'nobody', 'no')).toMatchObject({ error: { code: ErrorCode.PEER_NOT_FOUND } });
    const kicked = ok(rooms.kick(daw, aWelcome.peerId, 'too loud'));
    expect(to(kicked.effects, a)).toEqual([{ type: 'kicked', reason: 'too loud' }]);
    expect(to(kicked.effects, b)).toEqual([{ type: 'member-left', peerId: aWelcome.peerId, reason: 'kicked' }]);
    expect(kicked.effects.closings).toEqual([{ conn: a, code: CloseCode.KICKED, reason: 'kicked' }]);
    const rejoin = ok(
      rooms.join(conn('a2'), join({ room, deviceId: 'phone-a', resumeToken: aWelcome.resumeToken }), context()),
    );
    expect(rejoin.welcome.peerId).not.toBe(aWelcome.peerId);
  });

  it('ends the session when the DAW leaves', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room }), context()));
    const left = rooms.leave(daw);
    expect(to(left, phone)).toEqual([{ type: 'session-closed', reason: 'ended' }]);
    expect(left.closings).toEqual([{ conn: phone, code: CloseCode.SESSION_CLOSED, reason: expect.any(String) }]);
    expect(rooms.roomCount).toBe(0);
  });

  it('routes controllers only to the DAW, and the DAW to anyone present', () => {
    const { room, peerId: dawId } = openRoom();
    const a = conn('a');
    const b = conn('b');
    const aId = ok(rooms.join(a, join({ room, deviceId: 'phone-a' }), context())).welcome.peerId;
    const bId = ok(rooms.join(b, join({ room, deviceId: 'phone-b' }), context())).welcome.peerId;
    const aBinding = rooms.binding(a);
    const dawBinding = rooms.binding(daw);
    if (!aBinding || !dawBinding) throw new Error('bound');
    expect(rooms.route(aBinding, undefined)).toBe(daw);
    expect(rooms.route(aBinding, dawId)).toBe(daw);
    expect(rooms.route(aBinding, bId)).toBe(ErrorCode.UNAUTHORIZED);
    expect(rooms.route(aBinding, 'ghost')).toBe(ErrorCode.PEER_NOT_FOUND);
    expect(rooms.route(dawBinding, aId)).toBe(a);
    expect(rooms.route(dawBinding, dawId)).toBe(ErrorCode.PEER_NOT_FOUND);
    rooms.disconnect(b, 2000);
    expect(rooms.route(dawBinding, bId)).toBe(ErrorCode.PEER_AWAY);
    expect(rooms.controllerConnections(dawBinding)).toEqual([a]);
  });

  it('stores state for later joiners and lets only the DAW set it', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    expect(rooms.setState(phone, { tempo: 100 })).toMatchObject({ error: { code: ErrorCode.UNAUTHORIZED } });
    expect(to(ok(rooms.setState(daw, { tempo: 128 })).effects, phone)).toEqual([
      { type: 'state', state: { tempo: 128 } },
    ]);
    expect(ok(rooms.join(conn('late'), join({ room, deviceId: 'phone-2' }), context())).welcome.state).toEqual({
      tempo: 128,
    });
  });

  it('updates a member’s name and colour for everyone else, and only when they change', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const other = conn('other');
    const joined = ok(rooms.join(phone, join({ room, deviceId: 'phone-1', color: '#111111' }), context()));
    ok(rooms.join(other, join({ room, deviceId: 'phone-2' }), context()));
    const effects = ok(rooms.setProfile(phone, { name: 'Ana', color: '#222222' })).effects;
    const updated = { type: 'member-updated', member: expect.objectContaining({ name: 'Ana', color: '#222222' }) };
    expect(to(effects, daw)).toEqual([updated]);
    expect(to(effects, other)).toEqual([updated]);
    expect(to(effects, phone)).toEqual([]);
    expect(ok(rooms.setProfile(phone, { name: 'Ana', color: '#222222' })).effects.deliveries).toEqual([]);
    expect(ok(rooms.setProfile(phone, { name: '' })).effects.deliveries).toEqual([]);
    expect(rooms.setProfile(conn('stranger'), { name: 'X' })).toMatchObject({ error: { code: ErrorCode.NOT_JOINED } });
    // A rejoin with the resume token keeps the new profile unless it brings its own.
    rooms.disconnect(phone, 2000);
    const back = ok(
      rooms.join(
        conn('phone again'),
        join({ room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken }),
        context(3000),
      ),
    );
    expect(back.welcome.members).toContainEqual(expect.objectContaining({ name: 'Ana', color: '#222222' }));
  });

  it('tells the DAW of a controller’s RTT when it changes enough, and nobody else', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const other = conn('other');
    ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    ok(rooms.join(other, join({ room, deviceId: 'phone-2' }), context()));
    const first = rooms.setRtt(phone, 10);
    expect(to(first, daw)).toEqual([{ type: 'member-updated', member: expect.objectContaining({ rttMs: 10 }) }]);
    expect(to(first, other)).toEqual([]);
    expect(to(rooms.setRtt(phone, 11), daw)).toHaveLength(0);
    expect(to(rooms.setRtt(phone, 20), daw)).toHaveLength(1);
    expect(rooms.setRtt(daw, 5).deliveries).toEqual([]);
    // Everyone sees it with the next presence change.
    const away = rooms.disconnect(phone, 2000);
    expect(to(away, other)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ rttMs: 20, state: 'away' }) },
    ]);
  });

  it('refuses new rooms past maxRooms', () => {
    const small = registry({ maxRooms: 1 });
    ok(small.join(conn('d1'), join({ role: 'daw', deviceId: 'laptop-1' }), context()));
    expect(small.join(conn('d2'), join({ role: 'daw', deviceId: 'laptop-2' }), context())).toMatchObject({
      error: { code: ErrorCode.SERVER_FULL },
    });
  });

  it('refuses new rooms past maxRoomsPerAddress, and counts a closed room out', () => {
    const tight = registry({ maxRoomsPerAddress: 2 });
    const first = conn('d1');
    ok(tight.join(first, join({ role: 'daw', deviceId: 'laptop-1' }), context(1000, '10.0.0.9')));
    ok(tight.join(conn('d2'), join({ role: 'daw', deviceId: 'laptop-2' }), context(1000, '10.0.0.9')));
    expect(
      tight.join(conn('d3'), join({ role: 'daw', deviceId: 'laptop-3' }), context(1000, '10.0.0.9')),
    ).toMatchObject({
      error: { code: ErrorCode.SERVER_FULL, message: 'at most 2 rooms from one address' },
    });
    ok(tight.join(conn('d4'), join({ role: 'daw', deviceId: 'laptop-4' }), context(1000, '10.0.0.8')));
    tight.leave(first);
    ok(tight.join(conn('d5'), join({ role: 'daw', deviceId: 'laptop-5' }), context(1000, '10.0.0.9')));
  });

  it('records the device a DAW moved to with its hostToken', () => {
    const welcome = openRoom();
    rooms.disconnect(daw, 2000);
    const moved = ok(
      rooms.join(
        conn('new-laptop'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-2', hostToken: welcome.hostToken }),
        context(),
      ),
    );
    expect(moved.welcome.members[0]).toMatchObject({ deviceId: 'laptop-2' });
    // The old laptop is now "another device" while the new one is live.
    expect(
      rooms.join(
        conn('old-laptop'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: welcome.hostToken }),
        context(),
      ),
    ).toMatchObject({ error: { code: ErrorCode.ROLE_TAKEN } });
  });

  it('refuses a second join on one connection', () => {
    openRoom();
    expect(rooms.join(daw, join({ role: 'daw', deviceId: 'laptop-1' }), context())).toMatchObject({
      error: { code: ErrorCode.INVALID_MESSAGE, message: 'this connection has already joined' },
    });
  });
});
