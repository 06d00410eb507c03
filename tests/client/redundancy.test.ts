/**
 * The phone's sender and the DAW's receiver together, with packets lost in between: every
 * hit tapped at a drummer's pace arrives once although single packets are lost, because each
 * packet repeats the hits before it. (Real loss on a real network is issue 4's benchmark.)
 */
import { expect, it } from 'vitest';
import { DawPeers } from '../../client/net/daw-peers.ts';
import { HitSender } from '../../client/net/hit-sender.ts';
import { type PacketVisitor, readPacket } from '../../client/net/hits.ts';
import { fakeChannels } from '../helpers/fake-channel.ts';
import { useFakeTimersEachTest } from '../helpers/fake-timers.ts';

useFakeTimersEachTest();

function jam(lose: (packetIndex: number) => boolean) {
  let clock = 1_000_000;
  const channels = fakeChannels();
  const played: number[] = [];
  const daw = new DawPeers({
    iceServers: () => [],
    sendSignal: () => {},
    onHit: ({ pad }) => {
      played.push(pad);
    },
    onChange: () => {},
    createChannel: channels.create,
    now: () => clock,
  });
  daw.handleSignal('ana', { c: 'a1', s: { type: 'offer', sdp: 'v=0' } });
  channels.made[0]?.connect();
  const onHit = channels.made[0]?.options.onHit;
  if (!onHit) throw new Error('no channel');
  const visitor: PacketVisitor = { hit: onHit, ping: () => {}, pong: () => {}, timing: () => {}, tempo: () => {} };
  let packets = 0;
  const sender = new HitSender(
    {
      p2p: (packet) => {
        if (!lose(packets++)) expect(readPacket(packet.slice().buffer, visitor)).toBeNull();
        return true; // sent: the loss happens on the way
      },
      p2pLively: () => true,
      relay: () => false,
    },
    { epoch: 5, now: () => clock },
  );
  const tap = (pad: number, gapMs: number) => {
    clock += gapMs;
    sender.send(pad, 100);
  };
  return { tap, played, stats: () => daw.stats('ana') };
}

it('loses no hit when any one packet in three is lost, and plays none twice', () => {
  const { tap, played, stats } = jam((i) => i % 3 === 1);
  for (let i = 0; i < 300; i++) tap(i % 16, 60); // sixteenth notes at 250 BPM
  expect(played).toHaveLength(300);
  expect(played).toEqual(Array.from({ length: 300 }, (_, i) => i % 16));
  expect(stats()).toMatchObject({ hits: 300, lost: 0 });
});

it('loses a hit only when the packets that carry it are all lost (3 in a row), and counts it', () => {
  const { tap, played, stats } = jam((i) => i >= 10 && i <= 12);
  for (let i = 0; i < 30; i++) tap(i % 16, 60);
  expect(played).toHaveLength(29);
  expect(stats()).toMatchObject({ hits: 29, lost: 1 });
});

it('does not bring back a hit older than 250 ms (a late copy would be a wrong note)', () => {
  const { tap, played } = jam((i) => i === 0);
  tap(1, 0);
  tap(2, 300); // the packet carrying pad 1 again is too late for it
  expect(played).toEqual([2]);
});
