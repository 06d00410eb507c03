import { describe, expect, it } from 'vitest';
import type { HitEvent } from '../../client/net/daw-peers.ts';
import { HitRecorder, recorderFromUrl, VIA_CODE } from '../../client/state/hit-recorder.ts';

const hit = (over: Partial<HitEvent> = {}): HitEvent => ({
  peerId: 'ana',
  seq: 0,
  pad: 3,
  velocity: 100,
  via: 'p2p',
  sentAt: 1_763_790_000_000.25,
  arrivedAt: 1_763_790_000_012.5,
  tapAt: 1_763_790_000_002.75,
  delayMs: 9.75,
  playAt: 1_763_790_000_020.75,
  late: false,
  ...over,
});

describe('HitRecorder', () => {
  it('records each hit’s numbers, exactly, in order', () => {
    const recorder = new HitRecorder(10);
    recorder.record(hit(), 4_321.125, false, 4_321.125, 4_300.5);
    recorder.record(hit({ peerId: 'ben', seq: 0xfffffffe, pad: 63, via: 'relay', playAt: Number.NaN }), Number.NaN);
    recorder.record(hit({ seq: 1, tapAt: Number.NaN, late: true }), 4_400, true, Number.NaN, 4_399.75);
    expect(recorder.count).toBe(3);
    expect(recorder.export()).toEqual({
      count: 3,
      peers: ['ana', 'ben'],
      peer: [0, 1, 0],
      seq: [0, 0xfffffffe, 1],
      pad: [3, 63, 3],
      via: [VIA_CODE.p2p, VIA_CODE.relay, VIA_CODE.p2p],
      sentAt: [1_763_790_000_000.25, 1_763_790_000_000.25, 1_763_790_000_000.25],
      arrivedAt: [1_763_790_000_012.5, 1_763_790_000_012.5, 1_763_790_000_012.5],
      tapAt: [1_763_790_000_002.75, 1_763_790_000_002.75, Number.NaN],
      playAt: [1_763_790_000_020.75, Number.NaN, 1_763_790_000_020.75],
      audioAt: [4_321.125, Number.NaN, 4_400],
      plannedAt: [4_321.125, Number.NaN, Number.NaN],
      clockAt: [4_300.5, Number.NaN, 4_399.75],
      late: [0, 0, 1],
    });
  });

  it('takes the late flag from the caller when given (the audio clock had passed the hit’s time)', () => {
    const recorder = new HitRecorder(4);
    recorder.record(hit({ late: false }), 1, true);
    recorder.record(hit({ late: true }), 2, false);
    recorder.record(hit({ late: true }), 3);
    expect(recorder.export().late).toEqual([1, 0, 1]);
  });

  it('stops when full, and does not throw', () => {
    const recorder = new HitRecorder(2);
    for (let seq = 0; seq < 5; seq++) recorder.record(hit({ seq }), seq);
    expect(recorder.count).toBe(2);
    expect(recorder.export().seq).toEqual([0, 1]);
  });

  it('starts again from empty when cleared, and exports copies (not views of its arrays)', () => {
    const recorder = new HitRecorder(3);
    recorder.record(hit({ seq: 1 }), 1);
    const before = recorder.export();
    recorder.clear();
    expect(recorder.count).toBe(0);
    expect(recorder.export().seq).toEqual([]);
    recorder.record(hit({ seq: 9 }), 1);
    expect(recorder.export().seq).toEqual([9]);
    expect(before.seq).toEqual([1]);
    expect(Array.isArray(before.sentAt)).toBe(true);
  });
});

describe('recorderFromUrl', () => {
  it.each([
    ['?record=20000', 20_000],
    ['?room=x&record=5', 5],
    ['?record=5000000', 1_000_000],
  ])('makes a recorder for %s', (search, capacity) => {
    expect(recorderFromUrl(search)?.capacity).toBe(capacity);
  });

  it.each(['', '?record', '?record=', '?record=0', '?record=-5', '?record=2.5', '?record=lots', '?other=3'])(
    'makes none for %j',
    (search) => {
      expect(recorderFromUrl(search)).toBeNull();
    },
  );
});
