import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  createRingBuffer,
  HitRingReader,
  HitRingWriter,
  RING_CAPACITY,
  START_NOW,
} from '../../client/audio/sampler/hit-ring.ts';

type Record = [number, number, number, number];
const drainAll = (reader: HitRingReader) => {
  const got: Record[] = [];
  reader.drain((slot, velocity, start, owner) => got.push([slot, velocity, start, owner]));
  return got;
};

describe('the hit ring', () => {
  it('hands over records whole and in order, once each', () => {
    const buffer = createRingBuffer(8);
    const writer = new HitRingWriter(buffer);
    const reader = new HitRingReader(buffer);
    expect(writer.write(3, 0.5, START_NOW, -1)).toBe(true);
    expect(writer.write(127, 1, 12.345678, 7)).toBe(true);
    expect(reader.size).toBe(2);
    expect(drainAll(reader)).toEqual([
      [3, 0.5, -1, -1],
      [127, 1, 12.345678, 7],
    ]);
    expect(drainAll(reader)).toEqual([]);
    expect(reader.size).toBe(0);
  });

  it('refuses and counts a hit when full, and takes hits again once read', () => {
    const buffer = createRingBuffer(4);
    const writer = new HitRingWriter(buffer);
    const reader = new HitRingReader(buffer);
    for (let i = 0; i < 4; i++) expect(writer.write(i, 1, -1, 0)).toBe(true);
    expect(writer.write(9, 1, -1, 0)).toBe(false);
    expect(writer.write(9, 1, -1, 0)).toBe(false);
    expect(writer.overflows).toBe(2);
    expect(reader.overflows).toBe(2); // both ends see it
    expect(drainAll(reader).map((r) => r[0])).toEqual([0, 1, 2, 3]);
    expect(writer.write(4, 1, -1, 0)).toBe(true);
    expect(drainAll(reader).map((r) => r[0])).toEqual([4]);
  });

  it('keeps working when its indices wrap past 2^31', () => {
    const buffer = createRingBuffer(4);
    const header = new Int32Array(buffer, 0, 2);
    header[0] = 0x7fffffff - 2;
    header[1] = 0x7fffffff - 2;
    const writer = new HitRingWriter(buffer);
    const reader = new HitRingReader(buffer);
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) expect(writer.write(round * 3 + i, 1, -1, 0)).toBe(true);
      for (const [slot] of drainAll(reader)) seen.push(slot);
    }
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(header[0]).toBeLessThan(0); // it did wrap
    expect(writer.overflows).toBe(0);
  });

  it('refuses a capacity that is not a power of two', () => {
    expect(() => createRingBuffer(1000)).toThrow(/power of two/);
    expect(RING_CAPACITY & (RING_CAPACITY - 1)).toBe(0);
  });

  it('carries 200,000 hits from another thread whole and in order, counting every one it refused', async () => {
    const buffer = createRingBuffer(64);
    const reader = new HitRingReader(buffer);
    const total = 200_000;
    // The producer: a real second thread, writing as fast as it can (it never waits for the reader).
    const url = new URL('../../client/audio/sampler/hit-ring.ts', import.meta.url).href;
    const worker = new Worker(
      `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(url)}, ${JSON.stringify(import.meta.url)})).then(({ HitRingWriter }) => {
        const { workerData, parentPort } = require('node:worker_threads');
        const writer = new HitRingWriter(workerData);
        let refused = 0;
        for (let i = 0; i < ${total}; i++) if (!writer.write(i % 128, (i % 127) / 127 + 0.001, i * 0.5, i)) refused++;
        parentPort.postMessage(refused);
      });`,
      { eval: true, workerData: buffer },
    );
    const done = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    let received = 0;
    let last = -1;
    let bad = 0;
    let refused: number | null = null;
    void done.then((n) => {
      refused = n;
    });
    const until = Date.now() + 12_000;
    while (Date.now() < until) {
      reader.drain((slot, velocity, start, owner) => {
        // Whole: every field belongs to the same hit `owner`; in order: owners only increase.
        if (slot !== owner % 128 || start !== owner * 0.5 || velocity !== (owner % 127) / 127 + 0.001) bad++;
        if (owner <= last) bad++;
        last = owner;
        received++;
      });
      if (refused !== null && reader.size === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await worker.terminate();
    expect(refused).not.toBeNull();
    expect(bad).toBe(0);
    expect(received + (refused ?? 0)).toBe(total);
    expect(reader.overflows).toBe(refused);
    expect(received).toBeGreaterThan(0);
  });
});
