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
    hostTokenTtlMs: 86_400_000,
    profileNoticeMs: 1_000,
    rttNoticeMs: 5,
    pinAttemptRate: { perSecond: 0.2, burst: 3 },
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

  it('never tells anyone a deviceId, and a deviceId alone (same address or not) takes no member over', () => {
    const { room } = openRoom();
    const first = conn('first');
    const joined = ok(rooms.join(first, join({ room, deviceId: 'phone-1' }), context()));
    expect(JSON.stringify(joined)).not.toContain('phone-1');
    expect(JSON.stringify(joined.welcome.members)).not.toContain('laptop-1');
    expect(rooms.join(conn('second'), join({ room, deviceId: 'phone-1' }), context())).toMatchObject({
      error: { code: ErrorCode.UNAUTHORIZED, message: expect.stringContaining('resumeToken') },
    });
    expect(rooms.binding(first)).toBeDefined();
    // With its token it is the same member again (a second tab, a reload): the older socket goes.
    const again = ok(
      rooms.join(
        conn('second'),
        join({ room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken }),
        context(),
      ),
    );
    expect(again.welcome.peerId).toBe(joined.welcome.peerId);
    expect(again.welcome.members).toHaveLength(2);
    expect(again.effects.closings).toEqual([{ conn: first, code: CloseCode.REPLACED, reason: expect.any(String) }]);
    expect(to(again.effects, daw)).toEqual([]); // no churn
    expect(rooms.binding(first)).toBeUndefined();
    expect(rooms.disconnect(first, 2000)).toEqual({ deliveries: [], closings: [], bansChanged: false });
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
    // A kick is a ban: not with its token, not as a new member, not from its address.
    expect(
      rooms.join(conn('a2'), join({ room, deviceId: 'phone-a', resumeToken: aWelcome.resumeToken }), context()),
    ).toMatchObject({ error: { code: ErrorCode.BANNED } });
    expect(rooms.join(conn('a3'), join({ room, deviceId: 'phone-new' }), context())).toMatchObject({
      error: { code: ErrorCode.BANNED },
    });
    expect(kicked.effects.bansChanged).toBe(true);
  });

  it('ends the session when the DAW leaves', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room }), context()));
    const left = rooms.leave(daw, 2000);
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
    const effects = ok(rooms.setProfile(phone, { name: 'Ana', color: '#222222' }, 1000)).effects;
    const updated = { type: 'member-updated', member: expect.objectContaining({ name: 'Ana', color: '#222222' }) };
    expect(to(effects, daw)).toEqual([updated]);
    expect(to(effects, other)).toEqual([updated]);
    expect(to(effects, phone)).toEqual([]);
    expect(ok(rooms.setProfile(phone, { name: 'Ana', color: '#222222' }, 5000)).effects.deliveries).toEqual([]);
    expect(ok(rooms.setProfile(phone, { name: '' }, 5000)).effects.deliveries).toEqual([]);
    expect(rooms.setProfile(conn('stranger'), { name: 'X' }, 5000)).toMatchObject({
      error: { code: ErrorCode.NOT_JOINED },
    });
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

  it('tells the DAW of a controller’s smoothed RTT when it changes meaningfully, and nobody else', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const other = conn('other');
    ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    ok(rooms.join(other, join({ room, deviceId: 'phone-2' }), context()));
    const first = rooms.setRtt(phone, 10);
    if (first === null) throw new Error('the first RTT is news');
    expect(to(first, daw)).toEqual([{ type: 'member-updated', member: expect.objectContaining({ rttMs: 10 }) }]);
    expect(to(first, other)).toEqual([]);
    // One late answer moves it an eighth of the way (10 → 12.5): jitter, not news, and nothing is allocated.
    expect(rooms.setRtt(phone, 30)).toBeNull();
    expect(rooms.setRtt(phone, 2)).toBeNull();
    // A real change is told once the smoothed value has moved 5 ms and half of what was told.
    const told: (number | null)[] = [];
    for (let i = 0; i < 8; i++) {
      const effects = rooms.setRtt(phone, 40);
      told.push(effects === null ? null : (to(effects, daw)[0] as { member: { rttMs: number } }).member.rttMs);
    }
    // 10 → 40 over eight samples: told twice on the way (18, then 27.1), each step ≥ 5 ms and half.
    expect(told.filter((rtt) => rtt !== null)).toEqual([18, 27.1]);
    expect(rooms.setRtt(daw, 50)).toBeNull();
    // Everyone sees the latest with the next presence change.
    const away = rooms.disconnect(phone, 2000);
    expect(to(away, other)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ rttMs: expect.any(Number), state: 'away' }) },
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
    tight.leave(first, 2000);
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
    expect(moved.welcome.peerId).toBe(welcome.peerId);
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

describe('RoomRegistry against squatters, intruders and impostors', () => {
  let rooms: RoomRegistry<Conn>;
  const daw = conn('daw');
  beforeEach(() => {
    rooms = registry();
  });
  const openRoom = () => ok(rooms.join(daw, join({ role: 'daw', deviceId: 'laptop-1' }), context())).welcome;

  it('gives a full room’s place of the member away longest to a newcomer (member-left displaced)', () => {
    const { room } = openRoom();
    const phones = ['a', 'b', 'c'].map((name) => conn(name));
    const ids = phones.map(
      (phone, i) =>
        ok(rooms.join(phone, join({ room, deviceId: `phone-${i}` }), context(1000, `10.0.0.${i + 2}`))).welcome.peerId,
    );
    rooms.disconnect(phones[1] as Conn, 2000);
    rooms.disconnect(phones[0] as Conn, 3000);
    const newcomer = conn('newcomer');
    const joined = ok(rooms.join(newcomer, join({ room, deviceId: 'phone-9' }), context(4000, '10.0.0.9')));
    expect(to(joined.effects, daw)).toEqual([
      { type: 'member-left', peerId: ids[1], reason: 'displaced' },
      { type: 'member-joined', member: expect.objectContaining({ peerId: joined.welcome.peerId }) },
    ]);
    expect(joined.welcome.members.map((m) => m.peerId)).not.toContain(ids[1]);
    // Nobody away: full is full.
    rooms.join(conn('d'), join({ room, deviceId: 'phone-8' }), context(4000, '10.0.0.8'));
    expect(rooms.join(conn('e'), join({ room, deviceId: 'phone-7' }), context(4000, '10.0.0.7'))).toMatchObject({
      error: { code: ErrorCode.ROOM_FULL },
    });
  });

  it('keeps a kick’s ban when the room closes by timeout and is recreated from its hostToken, not after an end', () => {
    const welcome = openRoom();
    const phone = conn('phone');
    const phoneWelcome = ok(rooms.join(phone, join({ room: welcome.room, deviceId: 'phone-1' }), context())).welcome;
    ok(rooms.kick(daw, phoneWelcome.peerId, 'bye'));
    rooms.disconnect(daw, 2000);
    rooms.sweep(2000 + 60_000); // host-timeout: the room is gone
    expect(rooms.roomCount).toBe(0);
    const daw2 = conn('daw2');
    ok(
      rooms.join(
        daw2,
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: welcome.hostToken }),
        context(70_000),
      ),
    );
    expect(
      rooms.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-1' }), context(70_000, '10.1.1.1')),
    ).toMatchObject({
      error: { code: ErrorCode.BANNED },
    });
    expect(rooms.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-2' }), context(70_000))).toMatchObject({
      error: { code: ErrorCode.BANNED },
    });
    // The DAW ends the session: that room's lifetime is over, and so are its bans.
    expect(rooms.leave(daw2, 80_000).bansChanged).toBe(true);
    expect(rooms.exportBans()).toEqual([]);
  });

  it('keeps bans across a restart through exportBans/restoreBans, and refuses bad records', () => {
    const welcome = openRoom();
    const phoneWelcome = ok(
      rooms.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-1' }), context()),
    ).welcome;
    ok(rooms.kick(daw, phoneWelcome.peerId, 'bye'));
    const kept = JSON.parse(JSON.stringify(rooms.exportBans())) as unknown[];
    expect(kept).toEqual([
      {
        room: welcome.room,
        daw: welcome.peerId,
        devices: ['phone-1'],
        addresses: ['10.0.0.2'],
        peerIds: [phoneWelcome.peerId],
        expiresAt: null,
      },
    ]);
    const restarted = registry();
    expect(restarted.restoreBans([...kept, { room: 'x', daw: 5 }, 'junk', null], 5000)).toBe(1);
    expect(restarted.restoreBans('not a list', 5000)).toBe(0);
    ok(
      restarted.join(
        conn('daw'),
        join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: welcome.hostToken }),
        context(6000),
      ),
    );
    expect(
      restarted.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-1' }), context(6000, '10.7.7.7')),
    ).toMatchObject({
      error: { code: ErrorCode.BANNED },
    });
    // Another room that happens to get the same code later is another room: no bans.
    const other = registry({ newRoomCode: () => welcome.room, newPeerId: sequence('other') });
    other.restoreBans(kept, 5000);
    const fresh = ok(other.join(conn('d'), join({ role: 'daw', deviceId: 'laptop-9' }), context(6000))).welcome;
    expect(fresh.room).toBe(welcome.room);
    ok(other.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-1' }), context(6000)));
  });

  it('forgets a closed room’s bans once its hostToken could no longer recreate it', () => {
    const welcome = openRoom();
    const phoneWelcome = ok(
      rooms.join(conn('p'), join({ room: welcome.room, deviceId: 'phone-1' }), context()),
    ).welcome;
    ok(rooms.kick(daw, phoneWelcome.peerId, 'bye'));
    rooms.disconnect(daw, 2000);
    rooms.sweep(62_000); // closed by timeout at 62 s
    expect(rooms.exportBans()).toHaveLength(1);
    expect(rooms.sweep(62_000 + 86_400_000).bansChanged).toBe(true);
    expect(rooms.exportBans()).toEqual([]);
  });

  it('lets the DAW lock the room: no newcomers, but members with their token come back', () => {
    const welcome = openRoom();
    const { room } = welcome;
    const phone = conn('phone');
    const joined = ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context())).welcome;
    expect(rooms.setAccess(phone, { locked: true, pin: null })).toMatchObject({
      error: { code: ErrorCode.UNAUTHORIZED },
    });
    ok(rooms.setAccess(daw, { locked: true, pin: null }));
    expect(rooms.join(conn('new'), join({ room, deviceId: 'phone-2' }), context())).toMatchObject({
      error: { code: ErrorCode.ROOM_LOCKED },
    });
    rooms.disconnect(phone, 2000);
    const back = conn('back');
    ok(rooms.join(back, join({ room, deviceId: 'phone-1', resumeToken: joined.resumeToken }), context(3000)));
    // Its place given up, it still comes back (it was let in before).
    rooms.disconnect(back, 4000);
    rooms.sweep(40_000);
    const again = ok(
      rooms.join(conn('again'), join({ room, deviceId: 'phone-1', resumeToken: joined.resumeToken }), context(41_000)),
    );
    expect(again.welcome.peerId).toBe(joined.peerId);
    // The DAW gets its settings back in its welcome (a reload); controllers never see them.
    ok(rooms.setAccess(daw, { locked: false, pin: '4321' }));
    const reload = ok(
      rooms.join(
        conn('daw again'),
        join({ role: 'daw', room, deviceId: 'laptop-1', hostToken: welcome.hostToken }),
        context(42_000),
      ),
    );
    expect(reload.welcome.access).toEqual({ locked: false, pin: '4321' });
    expect(again.welcome.access).toBeUndefined();
    expect(
      JSON.stringify(ok(rooms.join(conn('x'), join({ room, deviceId: 'phone-5', pin: '4321' }), context(42_000)))),
    ).not.toContain('4321');
  });

  it('asks newcomers for the PIN, and limits wrong PINs per room', () => {
    const { room } = openRoom();
    ok(rooms.setAccess(daw, { locked: false, pin: '0427' }));
    expect(rooms.join(conn('a'), join({ room, deviceId: 'phone-1' }), context())).toMatchObject({
      error: { code: ErrorCode.PIN_REQUIRED, message: expect.stringContaining('asks') },
    });
    for (let i = 0; i < 3; i++) {
      expect(
        rooms.join(conn('a'), join({ room, deviceId: 'phone-1', pin: '1111' }), context(1000, `10.0.1.${i}`)),
      ).toMatchObject({
        error: { code: ErrorCode.PIN_REQUIRED, message: 'wrong PIN' },
      });
    }
    // The room's budget of wrong PINs (3 here) is spent, from whatever address: even the right one waits.
    expect(
      rooms.join(conn('a'), join({ room, deviceId: 'phone-1', pin: '0427' }), context(1000, '10.0.2.1')),
    ).toMatchObject({
      error: { code: ErrorCode.RATE_LIMITED },
    });
    const joined = ok(rooms.join(conn('a'), join({ room, deviceId: 'phone-1', pin: '0427' }), context(6000)));
    expect(joined.welcome.role).toBe('controller');
  });

  it('keeps the DAW’s name for the DAW, and no two members under names people would confuse', () => {
    const { room } = openRoom();
    for (const name of ['DAW', 'daw', 'D A W', 'ＤＡＷ', 'D.A.W']) {
      expect(rooms.join(conn('x'), join({ room, deviceId: 'phone-x', name }), context())).toMatchObject({
        error: { code: ErrorCode.INVALID_MESSAGE, message: expect.stringContaining('DAW') },
      });
    }
    const a = ok(rooms.join(conn('a'), join({ room, deviceId: 'phone-a', name: 'Ana' }), context())).welcome;
    const b = ok(rooms.join(conn('b'), join({ room, deviceId: 'phone-b', name: 'ana' }), context())).welcome;
    const cConn = conn('c');
    const c = ok(rooms.join(cConn, join({ room, deviceId: 'phone-c', name: 'ＡＮＡ' }), context())).welcome;
    const names = (w: typeof c) => w.members.filter((m) => m.role === 'controller').map((m) => m.name);
    expect(names(c)).toEqual(['Ana', 'ana 2', 'ＡＮＡ 3']);
    expect(a.peerId).not.toBe(b.peerId);
    // A rename takes the same care; renaming to your own name is no change.
    expect(rooms.setProfile(cConn, { name: 'Daw' }, 9000)).toMatchObject({
      error: { code: ErrorCode.INVALID_MESSAGE },
    });
    const renamed = ok(rooms.setProfile(cConn, { name: 'Ana 2' }, 9000));
    expect(to(renamed.effects, daw)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ name: 'Ana 2 2' }) },
    ]);
    // The DAW may call itself what it likes.
    ok(rooms.setProfile(daw, { name: 'DAW' }, 9000));
  });

  it('tells the room of name and colour changes at most once a second, the latest winning', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context()));
    expect(to(ok(rooms.setProfile(phone, { name: 'A' }, 10_000)).effects, daw)).toHaveLength(1);
    for (const [i, name] of ['B', 'C', 'D'].entries()) {
      expect(ok(rooms.setProfile(phone, { name }, 10_100 + i)).effects.deliveries).toEqual([]);
    }
    expect(rooms.sweep(10_999).deliveries).toEqual([]);
    expect(to(rooms.sweep(11_000), daw)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ name: 'D' }) },
    ]);
    expect(rooms.sweep(12_000).deliveries).toEqual([]);
    // A presence change in between carries the latest profile and settles what was due.
    ok(rooms.setProfile(phone, { name: 'E' }, 11_500));
    expect(to(rooms.disconnect(phone, 11_600), daw)).toEqual([
      { type: 'member-updated', member: expect.objectContaining({ name: 'E', state: 'away' }) },
    ]);
    expect(rooms.sweep(13_000).deliveries).toEqual([]);
  });

  it('knows a join with a valid token from a guess, and renews tokens once a third of their life has passed', () => {
    const welcome = openRoom();
    const phone = conn('phone');
    const joined = ok(rooms.join(phone, join({ room: welcome.room, deviceId: 'phone-1' }), context(1000)));
    const resume = join({ room: welcome.room, deviceId: 'phone-1', resumeToken: joined.welcome.resumeToken });
    expect(rooms.carriesValidToken(resume, 2000)).toBe(true);
    expect(rooms.carriesValidToken({ ...resume, deviceId: 'phone-2' }, 2000)).toBe(false);
    expect(rooms.carriesValidToken({ ...resume, room: 'ACDEF4' }, 2000)).toBe(false);
    expect(rooms.carriesValidToken(resume, 1000 + 45_000)).toBe(false); // expired: 1.5 resume windows
    const dawJoin = join({ role: 'daw', room: welcome.room, deviceId: 'laptop-1', hostToken: welcome.hostToken });
    expect(rooms.carriesValidToken(dawJoin, 2000)).toBe(true);
    expect(rooms.carriesValidToken({ ...dawJoin, hostToken: joined.welcome.resumeToken }, 2000)).toBe(false);
    expect(joined.token.expiresAt).toBe(1000 + 45_000);
    expect(rooms.renewToken(phone, 1000, 1000 + 14_999)).toBeNull();
    const renewed = rooms.renewToken(phone, 1000, 1000 + 15_000);
    expect(renewed?.expiresAt).toBe(16_000 + 45_000);
    expect(rooms.carriesValidToken({ ...resume, resumeToken: renewed?.token ?? '' }, 50_000)).toBe(true);
    expect(rooms.renewToken(daw, 1000, 1000 + 28_800_000)).toMatchObject({ expiresAt: 1000 + 28_800_000 + 86_400_000 });
    expect(rooms.renewToken(conn('stranger'), 0, 1e12)).toBeNull();
  });

  it('refuses an expired resume token (it no longer gives the peerId back)', () => {
    const { room } = openRoom();
    const phone = conn('phone');
    const joined = ok(rooms.join(phone, join({ room, deviceId: 'phone-1' }), context(1000))).welcome;
    rooms.disconnect(phone, 2000);
    rooms.sweep(40_000);
    const late = ok(
      rooms.join(conn('late'), join({ room, deviceId: 'phone-1', resumeToken: joined.resumeToken }), context(47_000)),
    );
    expect(late.welcome.peerId).not.toBe(joined.peerId);
  });
});

describe('RoomRegistry snapshots (another instance takes a room over)', () => {
  /** A snapshot's DAW, as Redis would hold it. */
  const SNAPSHOT_DAW = {
    peerId: 'p1',
    role: 'daw',
    name: 'DAW',
    color: '#eef0f5',
    joinedAt: 1,
    deviceId: 'daw-device-1',
    address: 'a',
  };

  it('exports a room and restores it elsewhere with everyone away; members resume under their peerIds', () => {
    const changed: string[] = [];
    const home = registry({ onRoomChange: (code) => changed.push(code) });
    const dawConn = conn('daw');
    const daw = ok(home.join(dawConn, join({ role: 'daw', deviceId: 'daw-device', name: 'Studio' }), context()));
    const room = daw.welcome.room;
    const phone = ok(home.join(conn('phone'), join({ room, deviceId: 'phone-device-1', name: 'Ana' }), context()));
    ok(home.setState(dawConn, { tempo: 90 }));
    ok(home.setAccess(dawConn, { locked: true, pin: null }));
    expect(new Set(changed)).toEqual(new Set([room]));
    const snapshot = home.exportRoom(room);
    expect(snapshot).toMatchObject({ code: room, state: { tempo: 90 }, access: { locked: true, pin: null }, joins: 1 });
    expect(snapshot?.members.map((m) => [m.peerId, m.role, m.deviceId])).toEqual([
      [daw.welcome.peerId, 'daw', 'daw-device'],
      [phone.welcome.peerId, 'controller', 'phone-device-1'],
    ]);

    // Through JSON, as Redis keeps it.
    const other = registry();
    expect(other.restoreRoom(room, JSON.parse(JSON.stringify(snapshot)), 5_000)).toBeNull();
    expect(other.restoreRoom(room, snapshot, 5_000)).toBeNull(); // held already: left as it is
    expect(other.roomCount).toBe(1);
    const dawBack = ok(
      other.join(
        conn('daw2'),
        join({ role: 'daw', room, deviceId: 'daw-device', hostToken: daw.welcome.hostToken }),
        context(6_000),
      ),
    );
    expect(dawBack.welcome).toMatchObject({
      peerId: daw.welcome.peerId,
      state: { tempo: 90 },
      access: { locked: true },
    });
    expect(dawBack.welcome.members.map((m) => [m.name, m.state])).toEqual([
      ['Studio', 'connected'],
      ['Ana', 'away'],
    ]);
    // The room is locked, but a member with its token passes, under its peerId.
    const phoneBack = ok(
      other.join(
        conn('phone2'),
        join({ room, deviceId: 'phone-device-1', resumeToken: phone.welcome.resumeToken }),
        context(6_000),
      ),
    );
    expect(phoneBack.welcome.peerId).toBe(phone.welcome.peerId);
    // Restored members are given up as usual when they do not come back: the DAW's grace ends the room.
    const abandoned = registry();
    expect(abandoned.restoreRoom(room, snapshot, 5_000)).toBeNull();
    abandoned.sweep(5_000 + 59_999);
    expect(abandoned.roomCount).toBe(1);
    abandoned.sweep(5_000 + 60_000);
    expect(abandoned.roomCount).toBe(0);
  });

  it('refuses a snapshot that does not check out, or is of another room, and changes nothing', () => {
    const other = registry();
    const daw = SNAPSHOT_DAW;
    const phone = { ...daw, peerId: 'p2', role: 'controller', name: 'Ana', deviceId: 'phone-device-1' };
    const good = {
      code: 'ACDEF3',
      createdFrom: '10.0.0.2',
      members: [daw, phone],
      access: { locked: false, pin: null },
      joins: 1,
    };
    const cases: [unknown, RegExp][] = [
      [null, /malformed/],
      ['text', /malformed/],
      [{ ...good, members: [] }, /malformed/],
      [{ ...good, members: [{ ...daw, role: 'controller' }] }, /first member.*DAW/],
      [{ ...good, members: [daw, { ...phone, role: 'daw' }] }, /first member.*DAW/],
      [{ ...good, members: [daw, { ...phone, peerId: 'p1' }] }, /share a peerId/],
      [{ ...good, members: [daw, { ...phone, deviceId: daw.deviceId }] }, /share a deviceId/],
      [{ ...good, members: [daw, { ...phone, name: 'D A W' }] }, /DAW's name/],
      [{ ...good, members: [daw, { ...phone, name: 'bad\u202ename' }] }, /name/],
      [{ ...good, members: [daw, { ...phone, color: 'red' }] }, /color/],
      [{ ...good, members: [daw, { ...phone, deviceId: 'x' }] }, /deviceId/],
      [{ ...good, code: 'a.b' }, /code/],
      [{ ...good, state: { tempo: 9999 } }, /state/],
      [{ ...good, access: { locked: 'yes', pin: null } }, /access/],
      [{ ...good, joins: -1 }, /joins/],
      [{ ...good, code: 'ACDEF4' }, /another room \(ACDEF4\)/],
    ];
    for (const [bad, why] of cases) {
      const refusal = other.restoreRoom('ACDEF3', bad, 1_000);
      expect(refusal?.error.code, JSON.stringify(bad)).toBe(ErrorCode.ROOM_NOT_FOUND);
      expect(refusal?.error.message).toMatch(why);
    }
    expect(other.roomCount).toBe(0);
    expect(other.memberCount).toBe(0);
    expect(other.restoreRoom('ACDEF3', good, 1_000)).toBeNull();
    expect(other.roomCount).toBe(1);
    expect(other.memberCount).toBe(2);
  });

  it('takes a room over only while it holds fewer than maxRooms', () => {
    const full = registry({ maxRooms: 1 });
    ok(full.join(conn('daw'), join({ role: 'daw', deviceId: 'daw-device' }), context()));
    const snapshot = {
      code: 'ACDEF9',
      createdFrom: '10.0.0.2',
      members: [SNAPSHOT_DAW],
      access: { locked: false, pin: null },
      joins: 0,
    };
    expect(full.restoreRoom('ACDEF9', snapshot, 1_000)?.error.code).toBe(ErrorCode.SERVER_FULL);
    expect(full.roomCount).toBe(1);
    expect(full.hasRoom('ACDEF9')).toBe(false);
  });
});

describe('RoomRegistry handing a room over (another instance became its home)', () => {
  it('closes its members here with 1012, tells them nothing ended, and forgets the room', () => {
    const changed: string[] = [];
    const home = registry({ onRoomChange: (code) => changed.push(code) });
    const dawConn = conn('daw');
    const daw = ok(home.join(dawConn, join({ role: 'daw', deviceId: 'daw-device' }), context()));
    const room = daw.welcome.room;
    const phoneConn = conn('phone');
    ok(home.join(phoneConn, join({ room, deviceId: 'phone-1', name: 'Ana' }), context()));
    const awayConn = conn('away');
    ok(home.join(awayConn, join({ room, deviceId: 'phone-2', name: 'Ben' }), context()));
    home.disconnect(awayConn, 2_000);
    changed.length = 0;

    const effects = home.handOver(room, 3_000);
    expect(effects.closings.map((closing) => [closing.conn, closing.code])).toEqual([
      [dawConn, CloseCode.SERVICE_RESTART],
      [phoneConn, CloseCode.SERVICE_RESTART],
    ]);
    expect(effects.deliveries).toEqual([]); // no session-closed: the session goes on at the new home
    expect(changed).toEqual([]); // nothing to write: the new home holds the snapshot
    expect(home.hasRoom(room)).toBe(false);
    expect(home.roomCount).toBe(0);
    expect(home.memberCount).toBe(0);
    // Their connections are no longer bound: their close changes nothing, and a sweep finds no one away.
    expect(home.disconnect(dawConn, 3_001)).toEqual({ deliveries: [], closings: [], bansChanged: false });
    expect(home.sweep(1_000_000).closings).toEqual([]);
    // A room not held here: nothing to do.
    expect(home.handOver('NOSUCH', 3_000)).toEqual({ deliveries: [], closings: [], bansChanged: false });
  });
});
