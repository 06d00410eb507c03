import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  ErrorCode,
  isTerminalClose,
  jsonDepthAtMost,
  normalizeRoomCode,
  parseClientMessage,
  parseServerMessage,
  ROOM_CODE_ALPHABET,
} from '../../signal/protocol.ts';

const join = { type: 'join', v: 1, role: 'controller', room: 'ACDEF3', deviceId: 'device-123' };

describe('parseClientMessage accepts every client message', () => {
  it.each([
    ['join (controller)', join],
    ['join (daw, no room)', { type: 'join', v: 1, role: 'daw', deviceId: 'abcdefgh', name: 'Laptop' }],
    ['join with tokens', { ...join, hostToken: 'h.x.y.z', resumeToken: 'r.x.y.z', name: '  Ana  ' }],
    ['signal', { type: 'signal', to: 'peer-1', data: { sdp: 'v=0' } }],
    ['relay to the DAW', { type: 'relay', data: [1, 2, 3] }],
    ['relay to a peer', { type: 'relay', to: 'peer_2', data: 'hit' }],
    ['state', { type: 'state', state: { tempo: 120, pads: [{ name: 'Kick', color: '#ff0000' }], extra: true } }],
    [
      'state with a band',
      {
        type: 'state',
        state: {
          band: {
            key: 9,
            scale: 'minor-pentatonic',
            players: { 'peer-1': { instrument: 'bass', octave: 1, pads: [{ name: 'A1', color: '#f8f9fa' }] } },
          },
        },
      },
    ],
    ['kick', { type: 'kick', peer: 'abc', reason: 'spam' }],
    ['join with a colour', { ...join, color: '#3ddc84' }],
    ['profile (name)', { type: 'profile', name: 'Ana' }],
    ['profile (colour)', { type: 'profile', color: '#FF4F7B' }],
    ['ping', { type: 'ping', t: 123.5 }],
    ['leave', { type: 'leave' }],
  ])('%s', (_name, message) => {
    const parsed = parseClientMessage(JSON.stringify(message));
    expect(parsed).toMatchObject({ ok: true, message: { type: message.type } });
  });

  it('trims names and keeps unknown state keys', () => {
    const parsed = parseClientMessage(JSON.stringify({ ...join, name: '  Ana  ' }));
    expect(parsed.ok && parsed.message.type === 'join' && parsed.message.name).toBe('Ana');
    const state = parseClientMessage(
      JSON.stringify({
        type: 'state',
        state: { tempo: 90, swing: 0.2, pads: [{ name: 'a', color: '#000000', sample: 1 }] },
      }),
    );
    expect(state.ok && state.message.type === 'state' && state.message.state).toEqual({
      tempo: 90,
      swing: 0.2,
      pads: [{ name: 'a', color: '#000000', sample: 1 }],
    });
  });
});

describe('parseClientMessage rejects bad input with a code and a reason', () => {
  it.each([
    ['not JSON', '{"type":', ErrorCode.INVALID_MESSAGE, 'not valid JSON'],
    ['a JSON string', '"join"', ErrorCode.INVALID_MESSAGE, 'JSON object'],
    ['a JSON array', '[1]', ErrorCode.INVALID_MESSAGE, 'JSON object'],
    ['null', 'null', ErrorCode.INVALID_MESSAGE, 'JSON object'],
    ['no type', '{"room":"x"}', ErrorCode.INVALID_MESSAGE, '"type"'],
    ['a numeric type', '{"type":7}', ErrorCode.INVALID_MESSAGE, '"type"'],
    ['unknown type', '{"type":"pad-hit"}', ErrorCode.INVALID_MESSAGE, 'unknown message type "pad-hit"'],
    ['inherited name as type', '{"type":"toString"}', ErrorCode.INVALID_MESSAGE, 'unknown message type'],
    ['join without v', JSON.stringify({ ...join, v: undefined }), ErrorCode.INVALID_MESSAGE, 'join.v'],
    ['join of another version', JSON.stringify({ ...join, v: 2 }), ErrorCode.VERSION_MISMATCH, 'v1'],
    ['join with v as text', JSON.stringify({ ...join, v: '1' }), ErrorCode.VERSION_MISMATCH, 'v1'],
    ['join with a bad role', JSON.stringify({ ...join, role: 'admin' }), ErrorCode.INVALID_MESSAGE, 'join.role'],
    [
      'join without deviceId',
      JSON.stringify({ ...join, deviceId: undefined }),
      ErrorCode.INVALID_MESSAGE,
      'join.deviceId',
    ],
    [
      'join with a short deviceId',
      JSON.stringify({ ...join, deviceId: 'abc' }),
      ErrorCode.INVALID_MESSAGE,
      'join.deviceId',
    ],
    [
      'join with a long name',
      JSON.stringify({ ...join, name: 'x'.repeat(33) }),
      ErrorCode.INVALID_MESSAGE,
      'join.name',
    ],
    [
      'join with a control character',
      JSON.stringify({ ...join, name: 'a\u0007b' }),
      ErrorCode.INVALID_MESSAGE,
      'join.name',
    ],
    ['join with a numeric room', JSON.stringify({ ...join, room: 123 }), ErrorCode.INVALID_MESSAGE, 'join.room'],
    ['signal without to', '{"type":"signal","data":{}}', ErrorCode.INVALID_MESSAGE, 'signal.to'],
    ['signal without data', '{"type":"signal","to":"p"}', ErrorCode.INVALID_MESSAGE, 'signal.data'],
    ['signal with null data', '{"type":"signal","to":"p","data":null}', ErrorCode.INVALID_MESSAGE, 'signal.data'],
    ['signal to a bad id', '{"type":"signal","to":"a b","data":1}', ErrorCode.INVALID_MESSAGE, 'signal.to'],
    ['relay without data', '{"type":"relay"}', ErrorCode.INVALID_MESSAGE, 'relay.data'],
    ['state that is not an object', '{"type":"state","state":5}', ErrorCode.INVALID_MESSAGE, 'state.state'],
    ['join with a colour name', JSON.stringify({ ...join, color: 'red' }), ErrorCode.INVALID_MESSAGE, 'join.color'],
    ['profile with nothing in it', '{"type":"profile"}', ErrorCode.INVALID_MESSAGE, 'profile'],
    ['profile with a short colour', '{"type":"profile","color":"#fff"}', ErrorCode.INVALID_MESSAGE, 'profile.color'],
    [
      'profile with a long name',
      `{"type":"profile","name":"${'x'.repeat(33)}"}`,
      ErrorCode.INVALID_MESSAGE,
      'profile.name',
    ],
    [
      'state with a silly tempo',
      '{"type":"state","state":{"tempo":9000}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.tempo',
    ],
    [
      'state with a bad colour',
      '{"type":"state","state":{"pads":[{"name":"a","color":"red"}]}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.pads.0.color',
    ],
    [
      'signal nested too deep',
      `{"type":"signal","to":"p","data":${'['.repeat(33)}${']'.repeat(33)}}`,
      ErrorCode.INVALID_MESSAGE,
      'signal.data: nests deeper than 32',
    ],
    [
      'relay nested 30,000 deep',
      `{"type":"relay","data":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
      ErrorCode.INVALID_MESSAGE,
      'relay.data',
    ],
    [
      'state nested too deep',
      `{"type":"state","state":{"x":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}}`,
      ErrorCode.INVALID_MESSAGE,
      'nests deeper',
    ],
    [
      'state with a band key out of range',
      '{"type":"state","state":{"band":{"key":12,"scale":"major","players":{}}}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.band.key',
    ],
    [
      'state with a band scale that is no catalogue name',
      '{"type":"state","state":{"band":{"key":0,"scale":"<b>","players":{}}}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.band.scale',
    ],
    [
      'state with a player under a key that is no peerId',
      '{"type":"state","state":{"band":{"key":0,"scale":"major","players":{"a b":{"instrument":"bass","octave":2,"pads":[]}}}}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.band.players',
    ],
    [
      'state with a player of 17 pads',
      `{"type":"state","state":{"band":{"key":0,"scale":"major","players":{"p1":{"instrument":"bass","octave":2,"pads":[${Array(17).fill('{"name":"C2","color":"#ffffff"}').join(',')}]}}}}}`,
      ErrorCode.INVALID_MESSAGE,
      'state.state.band.players.p1.pads',
    ],
    [
      'state with a fractional octave',
      '{"type":"state","state":{"band":{"key":0,"scale":"major","players":{"p1":{"instrument":"bass","octave":2.5,"pads":[]}}}}}',
      ErrorCode.INVALID_MESSAGE,
      'state.state.band.players.p1.octave',
    ],
    [
      'state with a band of 65 players',
      `{"type":"state","state":{"band":{"key":0,"scale":"major","players":{${Array.from({ length: 65 }, (_, i) => `"p${i}":{"instrument":"bass","octave":2,"pads":[]}`).join(',')}}}}}`,
      ErrorCode.INVALID_MESSAGE,
      'more than 64 players',
    ],
    ['kick without peer', '{"type":"kick"}', ErrorCode.INVALID_MESSAGE, 'kick.peer'],
    ['ping without t', '{"type":"ping"}', ErrorCode.INVALID_MESSAGE, 'ping.t'],
    ['ping with t as text', '{"type":"ping","t":"now"}', ErrorCode.INVALID_MESSAGE, 'ping.t'],
  ])('%s', (_name, text, code, fragment) => {
    const parsed = parseClientMessage(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe(code);
    expect(parsed.error.message).toContain(fragment);
  });
});

describe('jsonDepthAtMost', () => {
  it('measures nesting of objects and arrays, iteratively', () => {
    expect(jsonDepthAtMost(1, 1)).toBe(true);
    expect(jsonDepthAtMost({ a: [1, 2] }, 2)).toBe(true);
    expect(jsonDepthAtMost({ a: [1, { b: 2 }] }, 2)).toBe(false);
    expect(jsonDepthAtMost(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 32)).toBe(false);
  });
});

describe('parseServerMessage', () => {
  it('accepts what the server sends and rejects the rest', () => {
    expect(parseServerMessage('{"type":"pong","t":1,"serverTime":2}').ok).toBe(true);
    expect(parseServerMessage('{"type":"error","code":"ROOM_FULL","message":"full"}').ok).toBe(true);
    expect(parseServerMessage('{"type":"error","code":"FROM_THE_FUTURE","message":"?"}').ok).toBe(true);
    expect(parseServerMessage('{"type":"error","code":7,"message":"?"}').ok).toBe(false);
    expect(parseServerMessage('{"type":"join"}').ok).toBe(false);
  });
});

describe('room codes', () => {
  it('forgive case, spaces and dashes', () => {
    expect(normalizeRoomCode('acd-ef3')).toBe('ACDEF3');
    expect(normalizeRoomCode(' ACD EF3 ')).toBe('ACDEF3');
  });

  it('refuse look-alike characters and wrong lengths', () => {
    for (const typed of ['ACDEF0', 'ACDEFO', 'ACDEF1', 'ACDEFI', 'ACDEFL', 'ACDEF', 'ACDEF33', '']) {
      expect(normalizeRoomCode(typed)).toBeNull();
    }
  });

  it('use an alphabet without look-alikes', () => {
    for (const lookalike of '0O1IL2Z5S8BQ') expect(ROOM_CODE_ALPHABET).not.toContain(lookalike);
    expect(new Set(ROOM_CODE_ALPHABET).size).toBe(ROOM_CODE_ALPHABET.length);
  });
});

describe('close codes', () => {
  it('tell terminal from retryable', () => {
    for (const code of [
      CloseCode.NORMAL,
      CloseCode.KICKED,
      CloseCode.SESSION_CLOSED,
      CloseCode.UNAUTHORIZED,
      CloseCode.REPLACED,
      CloseCode.VERSION_MISMATCH,
    ]) {
      expect(isTerminalClose(code)).toBe(true);
    }
    for (const code of [
      CloseCode.GOING_AWAY,
      1006,
      CloseCode.MESSAGE_TOO_BIG,
      1011,
      CloseCode.RATE_LIMITED,
      CloseCode.JOIN_TIMEOUT,
    ]) {
      expect(isTerminalClose(code)).toBe(false);
    }
  });
});
