/**
 * Hits from the main thread to the audio thread without a message: a ring of fixed-size records
 * in a SharedArrayBuffer, one producer (the engine's trigger) and one consumer (the sampler's
 * processor, each render quantum). Writing a record is a few stores and one Atomics.store:
 * no allocation, no wake-up of the other thread (a postMessage costs a cross-thread wake-up per
 * hit). A full ring refuses the hit and counts it (`overflows`): never silently.
 *
 * Layout: an Int32Array header [write index, read index, overflows] (indices run on and wrap
 * as int32; the slot is index & (capacity − 1)), then RECORD_FIELDS Float64s per record:
 * slot, velocity, start (context seconds; START_NOW for "at once"), owner.
 * The producer writes the record's fields, then publishes it with Atomics.store of the write
 * index; the consumer reads the write index with Atomics.load, then the records before it, then
 * frees them with Atomics.store of the read index. Atomics are sequentially consistent, so a
 * record is whole when it is seen.
 */

/** Records the ring holds: 1,024 is ~0.6 s of hits at 1,600/s, if the audio thread stopped reading. */
export const RING_CAPACITY = 1024;
export const RECORD_FIELDS = 4;
/** `start` of a hit played at once (at the next render quantum). */
export const START_NOW = -1;

const WRITE = 0;
const READ = 1;
const OVERFLOWS = 2;
const HEADER_INTS = 4; // padded to 16 bytes, so the records are 8-byte aligned

/** Bytes of a ring's SharedArrayBuffer for `capacity` records (a power of two). */
export function ringBytes(capacity = RING_CAPACITY): number {
  return HEADER_INTS * 4 + capacity * RECORD_FIELDS * 8;
}

/** A new ring's buffer. Throws where SharedArrayBuffer is missing (not cross-origin isolated). */
export function createRingBuffer(capacity = RING_CAPACITY): SharedArrayBuffer {
  if ((capacity & (capacity - 1)) !== 0 || capacity < 2)
    throw new Error(`ring capacity ${capacity}: not a power of two`);
  return new SharedArrayBuffer(ringBytes(capacity));
}

abstract class RingView {
  protected readonly header: Int32Array;
  protected readonly records: Float64Array;
  protected readonly mask: number;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    this.records = new Float64Array(buffer, HEADER_INTS * 4);
    this.capacity = this.records.length / RECORD_FIELDS;
    if ((this.capacity & (this.capacity - 1)) !== 0) throw new Error('ring buffer of a bad size');
    this.mask = this.capacity - 1;
  }

  /** Hits refused because the ring was full. */
  get overflows(): number {
    return Atomics.load(this.header, OVERFLOWS);
  }

  /** Records written and not yet read. */
  get size(): number {
    return (Atomics.load(this.header, WRITE) - Atomics.load(this.header, READ)) | 0;
  }
}

/** The main thread's end. */
export class HitRingWriter extends RingView {
  /** Publishes one hit; false (and counted in `overflows`) if the ring is full. */
  write(slot: number, velocity: number, start: number, owner: number): boolean {
    const header = this.header;
    const w = Atomics.load(header, WRITE);
    if (((w - Atomics.load(header, READ)) | 0) >= this.capacity) {
      Atomics.add(header, OVERFLOWS, 1);
      return false;
    }
    const at = (w & this.mask) * RECORD_FIELDS;
    const records = this.records;
    records[at] = slot;
    records[at + 1] = velocity;
    records[at + 2] = start;
    records[at + 3] = owner;
    Atomics.store(header, WRITE, (w + 1) | 0);
    return true;
  }
}

/** Called once per hit read: slot, velocity, start (s or START_NOW), owner. */
export type HitSink = (slot: number, velocity: number, start: number, owner: number) => void;

/** The audio thread's end. */
export class HitRingReader extends RingView {
  /** Hands every published record to `sink`, oldest first, then frees them. Returns how many. */
  drain(sink: HitSink): number {
    const header = this.header;
    const w = Atomics.load(header, WRITE);
    let r = header[READ] as number; // only this end writes it
    const records = this.records;
    let n = 0;
    while (r !== w) {
      const at = (r & this.mask) * RECORD_FIELDS;
      sink(records[at] as number, records[at + 1] as number, records[at + 2] as number, records[at + 3] as number);
      r = (r + 1) | 0;
      n++;
    }
    Atomics.store(header, READ, r);
    return n;
  }
}
