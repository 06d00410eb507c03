/**
 * Bad input over real sockets: each case gets its error code (or a documented close code),
 * and the server goes on serving everyone else.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../signal/protocol.ts';
import { Harness, type TestClient } from '../helpers/clients.ts';

let harness: Harness;
let bystanders: { daw: TestClient; phone: TestClient; dawId: string };

beforeEach(async () => {
  harness = await Harness.start({
    limits: { maxPayloadBytes: 4096, messageRate: { perSecond: 0.01, burst: 20 }, floodCloseAfter: 30 },
  });
  const { daw, welcome, controllers } = await harness.room(1);
  const phone = controllers[0];
  if (!phone) throw new Error('one controller');
  bystanders = { daw, phone: phone.client, dawId: welcome.peerId };
});

afterEach(async () => {
  // Whatever the bad peer did, the room next to it still works.
  bystanders.phone.send({ type: 'relay', data: 'still here' });
  expect(await bystanders.daw.next('relay')).toMatchObject({ data: 'still here' });
  await harness.stop();
});

describe('before join', () => {
  it.each([
    ['signal', { type: 'signal', to: 'abc', data: 1 }],
    ['relay', { type: 'relay', data: 1 }],
    ['state', { type: 'state', state: {} }],
    ['kick', { type: 'kick', peer: 'abc' }],
    ['ping', { type: 'ping', t: 1 }],
    ['leave', { type: 'leave' }],
  ])('%s gets NOT_JOINED', async (_name, message) => {
    const client = await harness.open();
    client.send(message);
    expect(await client.error()).toMatchObject({ code: ErrorCode.NOT_JOINED });
  });
});

describe('malformed frames', () => {
  it.each([
    ['not JSON', 'hello'],
    ['a JSON number', '42'],
    ['an unknown type', '{"type":"pad-hit","pad":3}'],
    ['a join without deviceId', '{"type":"join","v":1,"role":"controller","room":"ACDEF3"}'],
    ['a join with a wrong role', '{"type":"join","v":1,"role":"god","deviceId":"abcdefgh"}'],
    ['a signal with data missing', '{"type":"signal","to":"abc"}'],
  ])('%s gets INVALID_MESSAGE, before and after join', async (_name, text) => {
    const stranger = await harness.open();
    stranger.ws.send(text);
    expect(await stranger.error()).toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    bystanders.phone.ws.send(text);
    expect(await bystanders.phone.error()).toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
  });

  it('a binary frame gets INVALID_MESSAGE', async () => {
    bystanders.phone.ws.send(Buffer.from([1, 2, 3]));
    expect(await bystanders.phone.error()).toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
      message: expect.stringContaining('binary'),
    });
  });

  it('a frame over maxPayload closes that socket with 1009', async () => {
    const { client } = await harness.join({ role: 'daw' });
    client.ws.send(JSON.stringify({ type: 'ping', t: 1, pad: 'x'.repeat(5000) }));
    expect(await client.closedWithin()).toMatchObject({ code: CloseCode.MESSAGE_TOO_BIG });
  });

  it('a text frame that is not UTF-8 closes that socket with 1007', async () => {
    const { client } = await harness.join({ role: 'daw' });
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await client.closedWithin()).toMatchObject({ code: 1007 });
  });

  it('a DAW-only message from a controller gets UNAUTHORIZED', async () => {
    bystanders.phone.send({ type: 'kick', peer: bystanders.dawId });
    expect(await bystanders.phone.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
  });
});

describe('floods', () => {
  it('get one RATE_LIMITED error, then a 4101 close if they keep on', async () => {
    const { client } = await harness.join({ role: 'daw' });
    for (let i = 0; i < 60; i++) client.send({ type: 'ping', t: i });
    expect(await client.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(await client.closedWithin()).toMatchObject({ code: CloseCode.RATE_LIMITED });
    expect(client.pending('error')).toEqual([]); // one error, not one per dropped message
    // The burst went through (19 pings after the join), the rest did not.
    expect(client.pending('pong').length).toBe(19);
  });
});

describe('a flood at a realistic refill rate', () => {
  it('is closed with 4101 after one RATE_LIMITED error, while the rate keeps refilling', async () => {
    const h = await Harness.start({ limits: { messageRate: { perSecond: 200, burst: 50 }, floodCloseAfter: 100 } });
    try {
      const { client } = await h.join({ role: 'daw' });
      for (let i = 0; i < 2000 && client.ws.readyState === client.ws.OPEN; i++) client.send({ type: 'ping', t: i });
      expect(await client.closedWithin()).toMatchObject({ code: CloseCode.RATE_LIMITED });
      expect(client.pending('error')).toEqual([
        { type: 'error', code: ErrorCode.RATE_LIMITED, message: expect.any(String) },
      ]);
    } finally {
      await h.stop();
    }
  });

  it('is not closed when it only brushes the limit', async () => {
    const h = await Harness.start({ limits: { messageRate: { perSecond: 200, burst: 50 }, floodCloseAfter: 100 } });
    try {
      const { client } = await h.join({ role: 'daw' });
      for (let i = 0; i < 80; i++) client.send({ type: 'ping', t: i });
      expect(await client.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the bucket refills
      await client.sync();
      expect(client.ws.readyState).toBe(client.ws.OPEN);
    } finally {
      await h.stop();
    }
  });
});

describe('abuse from one address', () => {
  it('caps sockets per address (429) and rooms per address (SERVER_FULL)', async () => {
    const h = await Harness.start({ limits: { maxConnectionsPerAddress: 3, maxRoomsPerAddress: 1 } });
    try {
      const { client: first } = await h.join({ role: 'daw' });
      const second = await h.open();
      second.send({ type: 'join', v: 1, role: 'daw', deviceId: 'another-laptop' });
      expect(await second.error()).toMatchObject({ code: ErrorCode.SERVER_FULL });
      await h.open();
      await expect(h.open()).rejects.toThrow('429');
      // Another address is not affected.
      const { welcome } = await h.join({ role: 'daw' }, { localAddress: '127.0.0.5' });
      expect(welcome.room).toEqual(expect.any(String));
      // A socket that closes frees its place.
      first.close();
      await first.closedWithin();
      await expect.poll(() => h.server.stats().connections).toBe(3);
      (await h.open()).close();
    } finally {
      await h.stop();
    }
  });

  it('survives a payload nested 30,000 deep (it would overflow JSON.stringify)', async () => {
    const h = await Harness.start(); // default 64 KiB frames: the payload fits
    try {
      const { daw, controllers } = await h.room(1);
      const phone = controllers[0];
      if (!phone) throw new Error('one controller');
      phone.client.ws.send(`{"type":"relay","data":${'['.repeat(30_000)}${']'.repeat(30_000)}}`);
      expect(await phone.client.error()).toMatchObject({
        code: ErrorCode.INVALID_MESSAGE,
        message: expect.stringContaining('nests deeper'),
      });
      phone.client.send({ type: 'relay', data: 'fine' });
      expect(await daw.next('relay')).toMatchObject({ data: 'fine' });
    } finally {
      await h.stop();
    }
  });
});

describe('a peer that stops reading', () => {
  it('is cut off once its unsent data passes the limit, and its room goes on', async () => {
    const h = await Harness.start({
      limits: {
        maxBufferedBytes: 256 * 1024,
        messageRate: { perSecond: 10_000, burst: 10_000 },
        addressByteRate: { perSecond: 1e9, burst: 1e9 },
      },
    });
    try {
      const { daw, controllers } = await h.room(2);
      const [stalled, lively] = controllers;
      if (!stalled || !lively) throw new Error('two controllers');
      // A phone whose page froze: its socket stays open but nothing is read from it.
      const socket = (stalled.client.ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.pause();
      const chunk = 'x'.repeat(60_000);
      for (let i = 0; i < 1000 && h.server.stats().connections === 3; i++) {
        daw.send({ type: 'signal', to: stalled.welcome.peerId, data: chunk });
        if (i % 20 === 19) await daw.sync(); // let the server catch up before sending more
      }
      expect(h.server.stats().connections).toBe(2);
      expect(await daw.next('member-updated', (m) => m.member.peerId === stalled.welcome.peerId)).toMatchObject({
        member: { state: 'away' },
      });
      lively.client.send({ type: 'relay', data: 'still playing' });
      expect(await daw.next('relay')).toMatchObject({ data: 'still playing' });
    } finally {
      await h.stop();
    }
  });
});
