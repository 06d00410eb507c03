/**
 * The stand-in for simple-peer's stream base class (browser builds alias `streamx` to it).
 * `Probe` copies the shape of simple-peer's own teardown (lite.js): `destroy()` from outside,
 * and `__destroy(err)`, which calls `end()` and then `_destroy(cb, err)` directly, cleaning up
 * a tick later and emitting 'error' itself. Each way must end in exactly one 'close'.
 */
import { describe, expect, it, vi } from 'vitest';
import { Duplex } from '../../client/net/peer-stream.ts';
import { useFakeTimersEachTest } from '../helpers/fake-timers.ts';

class Probe extends Duplex {
  _destroying = false;
  cleanedUp = 0;

  __destroy(error?: Error): void {
    this.end();
    this._destroy(() => {}, error);
  }

  _destroy(callback: (error?: unknown) => void, error?: Error): void {
    if (this.destroyed || this._destroying) return;
    this._destroying = true;
    setTimeout(() => {
      this.cleanedUp += 1;
      if (error) this.emit('error', error);
      callback();
    }, 0);
  }
}

function events(probe: Probe): string[] {
  const seen: string[] = [];
  probe.on('close', () => seen.push('close'));
  probe.on('error', (error: Error) => seen.push(`error:${error.message}`));
  return seen;
}

useFakeTimersEachTest();

describe('peer-stream Duplex', () => {
  it('ends an outside destroy() with one close, after the cleanup', () => {
    const probe = new Probe();
    const seen = events(probe);
    probe.destroy();
    expect(seen).toEqual([]); // cleanup runs a tick later, as simple-peer's does
    vi.runAllTimers();
    expect(seen).toEqual(['close']);
    expect(probe.destroyed).toBe(true);
    probe.destroy();
    vi.runAllTimers();
    expect(seen).toEqual(['close']);
    expect(probe.cleanedUp).toBe(1);
  });

  it('ends the internal __destroy(err) path (channel closed, ICE failed) with the error, then one close', () => {
    const probe = new Probe();
    const seen = events(probe);
    probe.__destroy(new Error('ICE failed'));
    probe.destroy(); // a second way in while the first is under way
    vi.runAllTimers();
    expect(seen).toEqual(['error:ICE failed', 'close']);
  });

  it('ends __destroy() without an error with one close too (under streamx this path emitted none)', () => {
    const probe = new Probe();
    const seen = events(probe);
    probe.__destroy();
    vi.runAllTimers();
    expect(seen).toEqual(['close']);
  });

  it('is an emitter: on, once, removeListener, and an unheard error throws', () => {
    const probe = new Probe();
    const calls: number[] = [];
    const listener = (n: number) => calls.push(n);
    probe.on('x', listener);
    probe.once('x', (n: number) => calls.push(n * 10));
    probe.emit('x', 1);
    probe.emit('x', 2);
    probe.removeListener('x', listener);
    expect(probe.emit('x', 3)).toBe(false);
    expect(calls).toEqual([1, 10, 2]);
    expect(() => probe.emit('error', new Error('unheard'))).toThrow('unheard');
  });

  it('push(null) marks the readable side ended; push(data) emits data at once', () => {
    const probe = new Probe();
    const data: unknown[] = [];
    probe.on('data', (chunk: unknown) => data.push(chunk));
    expect(probe.push(Uint8Array.of(1))).toBe(true);
    expect(data).toEqual([Uint8Array.of(1)]);
    probe.push(null);
    expect(probe._readableState.ended).toBe(true);
  });
});
