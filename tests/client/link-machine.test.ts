import { describe, expect, it } from 'vitest';
import { type LinkEffect, LinkMachine, retryDelayMs } from '../../client/net/link-machine.ts';

/** Midpoint jitter, so delays are exact: ceiling/2 + 0.5·ceiling/2 = 0.75·ceiling. */
const timing = { openTimeoutMs: 3000, retryBaseMs: 1000, retryMaxMs: 8000, random: () => 0.5 };
const connect: LinkEffect[] = [{ type: 'connect' }, { type: 'arm', ms: 3000 }];

function machineWithDaw(): LinkMachine {
  const machine = new LinkMachine(timing);
  expect(machine.dispatch({ type: 'daw', present: true })).toEqual(connect);
  return machine;
}

describe('LinkMachine', () => {
  it('waits idle until there is a DAW to connect to', () => {
    const machine = new LinkMachine(timing);
    expect(machine.dispatch({ type: 'daw', present: false })).toEqual([]);
    expect(machine.dispatch({ type: 'timer' })).toEqual([]);
    expect(machine.state).toEqual({ kind: 'idle' });
  });

  it('connects when the DAW is there, and opens', () => {
    const machine = machineWithDaw();
    expect(machine.state).toEqual({ kind: 'connecting', attempt: 1 });
    expect(machine.dispatch({ type: 'open' })).toEqual([{ type: 'disarm' }]);
    expect(machine.state).toEqual({ kind: 'open' });
  });

  it('gives up an attempt that does not open in time and retries with growing, capped backoff', () => {
    const machine = machineWithDaw();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const effects = machine.dispatch({ type: 'timer' }); // the open timeout
      expect(machine.state).toEqual({ kind: 'waiting', attempt });
      expect(effects[0]).toEqual({ type: 'teardown' });
      const arm = effects[1];
      if (arm?.type !== 'arm') throw new Error(`expected a retry to be armed, got ${JSON.stringify(effects)}`);
      delays.push(arm.ms);
      expect(machine.dispatch({ type: 'timer' })).toEqual(connect); // the backoff elapsed
      expect(machine.state).toEqual({ kind: 'connecting', attempt: attempt + 1 });
    }
    expect(delays).toEqual([750, 1500, 3000, 6000, 6000, 6000]);
  });

  it('treats a failure while connecting like a timeout', () => {
    const machine = machineWithDaw();
    expect(machine.dispatch({ type: 'failed' })).toEqual([{ type: 'teardown' }, { type: 'arm', ms: 750 }]);
    expect(machine.state).toEqual({ kind: 'waiting', attempt: 1 });
  });

  it('retries soon after an open channel fails', () => {
    const machine = machineWithDaw();
    machine.dispatch({ type: 'open' });
    expect(machine.dispatch({ type: 'failed' })).toEqual([{ type: 'teardown' }, { type: 'arm', ms: 750 }]);
    expect(machine.state).toEqual({ kind: 'waiting', attempt: 1 });
  });

  it('keeps an open channel when the DAW or the socket goes away (a server restart must not stop the jam)', () => {
    const machine = machineWithDaw();
    machine.dispatch({ type: 'open' });
    expect(machine.dispatch({ type: 'daw', present: false })).toEqual([]);
    expect(machine.dispatch({ type: 'daw', present: true })).toEqual([]);
    expect(machine.state).toEqual({ kind: 'open' });
  });

  it('connects at once, backoff forgotten, when the DAW comes back (a DAW reload)', () => {
    const machine = machineWithDaw();
    machine.dispatch({ type: 'open' });
    machine.dispatch({ type: 'failed' }); // the DAW page went away
    machine.dispatch({ type: 'daw', present: false });
    expect(machine.dispatch({ type: 'timer' })).toEqual([]); // nobody to offer to: no attempt
    expect(machine.state).toEqual({ kind: 'waiting', attempt: 1 });
    expect(machine.dispatch({ type: 'daw', present: true })).toEqual(connect);
    expect(machine.state).toEqual({ kind: 'connecting', attempt: 1 });
  });

  it('abandons an attempt whose DAW left, and starts afresh when it returns', () => {
    const machine = machineWithDaw();
    expect(machine.dispatch({ type: 'daw', present: false })).toEqual([{ type: 'teardown' }, { type: 'disarm' }]);
    expect(machine.state).toEqual({ kind: 'waiting', attempt: 1 });
    expect(machine.dispatch({ type: 'daw', present: true })).toEqual(connect);
  });

  it('ignores a repeated "present" (no restart of an attempt under way)', () => {
    const machine = machineWithDaw();
    expect(machine.dispatch({ type: 'daw', present: true })).toEqual([]);
    expect(machine.state).toEqual({ kind: 'connecting', attempt: 1 });
  });

  it('ignores events that do not apply to the state', () => {
    const machine = new LinkMachine(timing);
    expect(machine.dispatch({ type: 'open' })).toEqual([]);
    expect(machine.dispatch({ type: 'failed' })).toEqual([]);
    machine.dispatch({ type: 'daw', present: true });
    machine.dispatch({ type: 'open' });
    expect(machine.dispatch({ type: 'open' })).toEqual([]);
    expect(machine.dispatch({ type: 'timer' })).toEqual([]);
  });

  it('stops from any state, tearing down, and stays stopped until a DAW appears again', () => {
    const machine = machineWithDaw();
    machine.dispatch({ type: 'open' });
    expect(machine.dispatch({ type: 'stop' })).toEqual([{ type: 'teardown' }, { type: 'disarm' }]);
    expect(machine.state).toEqual({ kind: 'idle' });
    expect(machine.dispatch({ type: 'stop' })).toEqual([]);
    expect(machine.dispatch({ type: 'timer' })).toEqual([]);
    expect(machine.dispatch({ type: 'daw', present: true })).toEqual(connect);
  });
});

describe('retryDelayMs', () => {
  it('jitters between half and all of the ceiling', () => {
    const low = retryDelayMs(3, { ...timing, random: () => 0 });
    const high = retryDelayMs(3, { ...timing, random: () => 0.999999 });
    expect(low).toBe(2000);
    expect(high).toBe(4000);
  });
});
