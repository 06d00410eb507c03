/** Forwarding inside a room: signal, relay, state, ping; the server stamps `from`; rooms are sealed. */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, PLAYER_COLORS } from '../../signal/protocol.ts';
import { Harness } from '../helpers/clients.ts';

let harness: Harness;
afterEach(async () => {
  await harness.stop();
});

describe('signal and relay', () => {
  it('forwards SDP/ICE untouched between the DAW and a controller, stamped with the real sender', async () => {
    harness = await Harness.start();
    const { daw, welcome, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', nested: { a: [1, 'two', null] } };
    phone.client.send({ type: 'signal', to: welcome.peerId, data: offer, from: welcome.peerId });
    expect(await daw.next('signal')).toEqual({ type: 'signal', from: phone.welcome.peerId, data: offer });
    daw.send({ type: 'signal', to: phone.welcome.peerId, data: { candidate: 'x' } });
    expect(await phone.client.next('signal')).toEqual({
      type: 'signal',
      from: welcome.peerId,
      data: { candidate: 'x' },
    });
  });

  it('relays pad hits from a controller to the DAW, with or without `to`', async () => {
    harness = await Harness.start();
    const { daw, welcome, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    phone.client.send({ type: 'relay', data: 'AQID' });
    phone.client.send({ type: 'relay', to: welcome.peerId, data: [1, 2] });
    expect(await daw.next('relay')).toEqual({ type: 'relay', from: phone.welcome.peerId, data: 'AQID' });
    expect(await daw.next('relay')).toEqual({ type: 'relay', from: phone.welcome.peerId, data: [1, 2] });
  });

  it('relays from the DAW to one controller, or to all without `to`', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(2);
    const [a, b] = controllers;
    if (!a || !b) throw new Error('two controllers');
    daw.send({ type: 'relay', to: a.welcome.peerId, data: 'one' });
    daw.send({ type: 'relay', data: 'all' });
    expect(await a.client.next('relay')).toMatchObject({ data: 'one' });
    expect(await a.client.next('relay')).toMatchObject({ data: 'all' });
    expect(await b.client.next('relay')).toMatchObject({ data: 'all' });
    await b.client.sync();
    expect(b.client.pending('relay')).toEqual([]);
  });

  it('keeps controllers from addressing each other or anyone outside the room', async () => {
    harness = await Harness.start();
    const first = await harness.room(2);
    const second = await harness.room(1);
    const [a, b] = first.controllers;
    const outsider = second.controllers[0];
    if (!a || !b || !outsider) throw new Error('controllers');
    a.client.send({ type: 'signal', to: b.welcome.peerId, data: 1 });
    expect(await a.client.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    a.client.send({ type: 'signal', to: second.welcome.peerId, data: 1 });
    expect(await a.client.error()).toMatchObject({ code: ErrorCode.PEER_NOT_FOUND });
    first.daw.send({ type: 'relay', to: outsider.welcome.peerId, data: 1 });
    expect(await first.daw.error()).toMatchObject({ code: ErrorCode.PEER_NOT_FOUND });
    for (const client of [b.client, second.daw, outsider.client]) {
      await client.sync();
      expect(client.pending('signal')).toEqual([]);
      expect(client.pending('relay')).toEqual([]);
    }
  });

  it('answers PEER_AWAY for a member whose socket is down', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    daw.close();
    expect(await phone.client.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { role: 'daw' },
    });
    phone.client.send({ type: 'relay', data: 'hit' });
    expect(await phone.client.error()).toMatchObject({ code: ErrorCode.PEER_AWAY });
  });
});

describe('state', () => {
  it('goes from the DAW to every controller and into later welcomes', async () => {
    harness = await Harness.start();
    const { daw, welcome, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    const state = { tempo: 96, pads: [{ name: 'Kick', color: '#ff3366' }] };
    daw.send({ type: 'state', state });
    expect(await phone.client.next('state')).toEqual({ type: 'state', state });
    const { welcome: late } = await harness.join({ room: welcome.room });
    expect(late.state).toEqual(state);
  });

  it('is DAW-only, and bounded in size', async () => {
    harness = await Harness.start({ limits: { maxStateBytes: 200 } });
    const { daw, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    phone.client.send({ type: 'state', state: { tempo: 90 } });
    expect(await phone.client.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    daw.send({ type: 'state', state: { tempo: 90, notes: 'x'.repeat(300) } });
    expect(await daw.error()).toMatchObject({ code: ErrorCode.TOO_LARGE });
    await phone.client.sync();
    expect(phone.client.pending('state')).toEqual([]);
  });
});

describe('profile (name and colour)', () => {
  it('gives each controller a colour of its own unless it brings one', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.room(0);
    const first = await harness.join({ room: welcome.room });
    const second = await harness.join({ room: welcome.room });
    const chosen = await harness.join({ room: welcome.room, color: '#123456' });
    const colorOf = (w: typeof first.welcome) => w.members.find((m) => m.peerId === w.peerId)?.color;
    expect(colorOf(first.welcome)).toBe(PLAYER_COLORS[0]);
    expect(colorOf(second.welcome)).toBe(PLAYER_COLORS[1]);
    expect(colorOf(chosen.welcome)).toBe('#123456');
  });

  it('tells the rest of the room about a new name or colour, and later welcomes carry it', async () => {
    harness = await Harness.start();
    const { daw, welcome, controllers } = await harness.room(2);
    const [ana, ben] = controllers;
    if (!ana || !ben) throw new Error('two controllers');
    ana.client.send({ type: 'profile', name: 'Ana B', color: '#abcdef' });
    const expected = { peerId: ana.welcome.peerId, name: 'Ana B', color: '#abcdef' };
    expect((await daw.next('member-updated')).member).toMatchObject(expected);
    expect((await ben.client.next('member-updated')).member).toMatchObject(expected);
    const { welcome: late } = await harness.join({ room: welcome.room });
    expect(late.members).toContainEqual(expect.objectContaining(expected));
  });

  it('says nothing when nothing changed, and refuses a bad colour', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(1);
    const phone = controllers[0];
    if (!phone) throw new Error('one controller');
    const me = phone.welcome.members.find((m) => m.peerId === phone.welcome.peerId);
    phone.client.send({ type: 'profile', name: me?.name, color: me?.color });
    phone.client.send({ type: 'profile', color: 'blue' });
    expect(await phone.client.error()).toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    await daw.sync();
    expect(daw.pending('member-updated')).toEqual([]);
  });
});

describe('ping', () => {
  it('answers with the client time and the server time', async () => {
    harness = await Harness.start();
    const { client } = await harness.join({ role: 'daw' });
    client.send({ type: 'ping', t: 42.5 });
    const pong = await client.next('pong');
    expect(pong.t).toBe(42.5);
    expect(Math.abs(pong.serverTime - Date.now())).toBeLessThan(5000);
  });
});
