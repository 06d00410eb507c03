/**
 * An instance SIGKILLed mid-jam (each instance a process of its own): the members it held
 * reconnect to another instance and resume with their tokens under the same peerIds; the rooms
 * it was home of are taken over from their snapshots in Redis (members, state), and the rooms
 * of other instances see its members away and then back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../signal/protocol.ts';
import { type JoinOptions, joinAt, type TestClient } from '../helpers/clients.ts';
import { type InstanceProcess, startInstance, startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
const instances: InstanceProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(instances.map((instance) => instance.kill()));
  await redis.stop();
});

const join = (url: string, options: JoinOptions) => joinAt(url, options, clients);

describe('an instance dies', () => {
  it('its members resume on another instance with their tokens, same peerIds; its rooms are taken over', async () => {
    for (let i = 0; i < 2; i++) {
      instances.push(await startInstance({ redisUrl: redis.url, secret: SECRET, heartbeatMs: 300 }));
    }
    const [doomed, survivor] = instances;
    if (!doomed || !survivor) throw new Error('two instances');
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');

    // Room 1 lives on the doomed instance: its DAW and a phone there, a phone on the survivor.
    const dawDevice = 'daw-device-1';
    const { client: daw, welcome } = await join(doomed.url, { role: 'daw', deviceId: dawDevice, name: 'Studio' });
    const state = { tempo: 123 };
    daw.send({ type: 'state', state });
    const { welcome: onDoomed } = await join(doomed.url, {
      room: welcome.room,
      deviceId: 'phone-device-1',
      name: 'Ana',
    });
    const { client: onSurvivorClient, welcome: onSurvivor } = await join(survivor.url, {
      room: welcome.room,
      deviceId: 'phone-device-2',
      name: 'Ben',
    });
    expect(onSurvivor.state).toEqual(state);
    await daw.next('member-joined');
    await daw.next('member-joined');
    // Room 2 lives on the survivor, with a phone on the doomed instance.
    const { client: daw2, welcome: room2 } = await join(survivor.url, { role: 'daw' });
    const { welcome: phone3 } = await join(doomed.url, { room: room2.room, deviceId: 'phone-device-3' });
    await daw2.next('member-joined');

    await doomed.kill();

    // The survivor finds the doomed instance gone (its key expired): sockets whose room it held
    // are closed with 1012 (service restart: clients reconnect), its members elsewhere are away.
    expect((await onSurvivorClient.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    expect((await daw2.next('member-updated', (m) => m.member.peerId === phone3.peerId)).member.state).toBe('away');

    // Everyone comes back through the survivor (a load balancer would send them there).
    const { client: dawAgain, welcome: dawBack } = await join(survivor.url, {
      role: 'daw',
      room: welcome.room,
      deviceId: dawDevice,
      hostToken: welcome.hostToken as string,
    });
    expect(dawBack).toMatchObject({ room: welcome.room, peerId: welcome.peerId, state });
    expect(dawBack.members.map((m) => [m.peerId, m.state])).toEqual([
      [welcome.peerId, 'connected'],
      [onDoomed.peerId, 'away'],
      [onSurvivor.peerId, 'away'],
    ]);
    const { client: phone1, welcome: back1 } = await join(survivor.url, {
      room: welcome.room,
      deviceId: 'phone-device-1',
      resumeToken: onDoomed.resumeToken,
    });
    expect(back1.peerId).toBe(onDoomed.peerId);
    expect(back1.state).toEqual(state);
    const { welcome: back2 } = await join(survivor.url, {
      room: welcome.room,
      deviceId: 'phone-device-2',
      resumeToken: onSurvivor.resumeToken,
    });
    expect(back2.peerId).toBe(onSurvivor.peerId);
    expect((await dawAgain.next('member-updated', (m) => m.member.peerId === back2.peerId)).member.state).toBe(
      'connected',
    );
    phone1.send({ type: 'relay', data: { hit: 1 } });
    expect(await dawAgain.next('relay')).toEqual({ type: 'relay', from: back1.peerId, data: { hit: 1 } });

    const { welcome: back3 } = await join(survivor.url, {
      room: room2.room,
      deviceId: 'phone-device-3',
      resumeToken: phone3.resumeToken,
    });
    expect(back3.peerId).toBe(phone3.peerId);
    expect((await daw2.next('member-updated', (m) => m.member.peerId === phone3.peerId)).member.state).toBe(
      'connected',
    );
  }, 60_000);
});
