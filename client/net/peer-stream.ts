/**
 * Stands in for `streamx`'s Duplex under simple-peer in the browser bundle (vite.config.ts
 * aliases `streamx` here). padmesh never uses simple-peer as a stream: hits go straight
 * to and from the RTCDataChannel (peer-channel.ts). The stream machinery (streamx, b4a,
 * bare-events, text-decoder, fast-fifo) was ~35 KB of minified code on every phone for
 * nothing (by the build's source map; the phone bundle went from 38.5 to 28.4 KB gzip), so this gives simple-peer only what it calls on its base class: an event
 * emitter, `push`, `end`, `destroy`, `destroyed`, `_readableState.ended`.
 *
 * It also makes the end of a peer certain: simple-peer's internal `__destroy()` (a closed
 * channel, a failed ICE connection) calls `_destroy` directly, and under streamx that path
 * never emits 'close'. Here every `_destroy` ends in `destroyed = true` and one 'close'.
 */
type Listener = (...args: never[]) => void;
type DestroyHook = (callback: (error?: unknown) => void, error?: unknown) => void;

export class Duplex {
  destroyed = false;
  readonly _readableState = { ended: false };
  private readonly byEvent = new Map<string, Listener[]>();

  constructor(_options?: unknown) {
    // Wrap the subclass's _destroy (simple-peer's cleanup) so each way of ending finishes here.
    const self = this as unknown as { _destroy?: DestroyHook };
    const cleanup = self._destroy;
    if (typeof cleanup === 'function') {
      self._destroy = (callback, error) =>
        cleanup.call(
          this,
          (callbackError?: unknown) => {
            if (this.destroyed) return;
            this.destroyed = true;
            callback(callbackError);
            this.emit('close');
          },
          error,
        );
    }
  }

  on(event: string, listener: Listener): this {
    const list = this.byEvent.get(event);
    if (list) list.push(listener);
    else this.byEvent.set(event, [listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapper = (...args: never[]) => {
      this.removeListener(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  removeListener(event: string, listener: Listener): this {
    const list = this.byEvent.get(event);
    const index = list?.indexOf(listener) ?? -1;
    if (list && index >= 0) list.splice(index, 1);
    return this;
  }

  off(event: string, listener: Listener): this {
    return this.removeListener(event, listener);
  }

  emit(event: string, ...args: unknown[]): boolean {
    const list = this.byEvent.get(event);
    if (!list || list.length === 0) {
      if (event === 'error') throw args[0]; // as Node's emitter: an unheard error is not swallowed
      return false;
    }
    for (const listener of [...list]) (listener as (...values: unknown[]) => void)(...args);
    return true;
  }

  /** Readable side: data for a reader. Nobody reads (hits bypass the stream); kept for completeness. */
  push(data: unknown): boolean {
    if (data === null) {
      this._readableState.ended = true;
      return false;
    }
    this.emit('data', data);
    return true;
  }

  /** Writable side ends: nothing is buffered, so there is nothing to flush. */
  end(): this {
    return this;
  }

  destroy(error?: unknown): void {
    const self = this as unknown as { _destroy?: DestroyHook };
    if (this.destroyed) return;
    if (self._destroy) self._destroy(() => {}, error);
    else {
      this.destroyed = true;
      this.emit('close');
    }
  }
}

export default { Duplex };
