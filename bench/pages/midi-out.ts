/**
 * The page of bench/midi-out.ts: the main-thread time of a hit handed to the engine alone, and to
 * the engine and then MIDI out (client/midi/midi-out.ts) as the DAW's jam does, interleaved call by
 * call in one run; and MIDI out's hit() alone, timed in batches (one call is below the 5 µs step).
 * The output is a stand-in `MIDIOutput` whose send() copies its bytes as a browser does (there is no
 * MIDI system here: Chromium's own send() cannot be measured on this machine).
 */
import { createDrumEngine } from '../../client/audio/engine.ts';
import { KIT } from '../../client/audio/kit.ts';
import { ELECTRONIC_KIT } from '../../client/audio/kits/index.ts';
import { renderKit } from '../../client/audio/render-kit.ts';
import { MidiOut, type MidiSink } from '../../client/midi/midi-out.ts';
import { publishHarness } from './publish-harness.ts';

export interface MidiCalls {
  /** Per call, ms: engine.trigger alone, and engine.trigger then midi.hit. */
  engineMs: number[];
  withMidiMs: number[];
  /** midi.hit alone: mean per call over each batch, ms. */
  batchMeanMs: number[];
  /** Messages the stand-in output took. */
  messages: number;
}

interface Harness {
  ready: boolean;
  isolated: boolean;
  run(count: number, meanIntervalMs: number, batches: number, batchSize: number): Promise<MidiCalls>;
}

/** Copies each message into a ring, as a browser's send() copies its data before it returns. */
class CopyingOutput implements MidiSink {
  readonly #ring = new Uint8Array(1 << 16);
  #at = 0;
  messages = 0;
  send(data: number[], timestamp?: number): void {
    for (let i = 0; i < data.length; i++) {
      this.#ring[this.#at] = data[i] as number;
      this.#at = (this.#at + 1) & 0xffff;
    }
    if (timestamp !== undefined && !(timestamp >= 0)) throw new TypeError('bad timestamp');
    this.messages++;
  }
}

async function setup(): Promise<Harness> {
  const engine = createDrumEngine({ transport: 'ring' });
  await engine.start();
  await renderKit(ELECTRONIC_KIT, engine.sampleRate, (pad, sound) => engine.setSlotSound(pad, sound));
  const out = new MidiOut();
  const output = new CopyingOutput();
  out.setOutput(output);
  // Four players, one melodic, as a small band.
  out.setPart('p0', null);
  out.setPart('p1', null);
  out.setPart('p2', [48, 50, 51, 53, 55, 56, 58, 60, 62, 63, 65, 67, 68, 70, 72, 74]);
  out.setPart('p3', null);
  const players = ['p0', 'p1', 'p2', 'p3'];
  return {
    ready: true,
    isolated: crossOriginIsolated,
    run(count, meanIntervalMs, batches, batchSize) {
      const result: MidiCalls = { engineMs: [], withMidiMs: [], batchMeanMs: [], messages: 0 };
      const origin = performance.timeOrigin;
      return new Promise((resolve) => {
        let n = 0;
        const next = () => {
          if (n >= count) {
            for (let b = 0; b < batches; b++) {
              const t0 = performance.now();
              for (let i = 0; i < batchSize; i++) {
                // Every other hit steady (planned 20 ms ahead), as mixed modes would be.
                out.hit(players[i & 3] as string, i % KIT.length, 100, i & 1 ? origin + t0 + 20 : Number.NaN);
              }
              result.batchMeanMs.push((performance.now() - t0) / batchSize);
            }
            result.messages = output.messages;
            return resolve(result);
          }
          const pad = n % KIT.length;
          const peer = players[n & 3] as string;
          const steady = (n >> 1) & 1; // each mode in both arms
          // Interleaved: the engine alone, then with MIDI, call by call, so both see the same load.
          if (n & 1) {
            const t0 = performance.now();
            engine.trigger(pad, 0.8, undefined, n & 3);
            out.hit(peer, pad, 100, steady ? origin + t0 + 20 : Number.NaN);
            result.withMidiMs.push(performance.now() - t0);
          } else {
            const t0 = performance.now();
            engine.trigger(pad, 0.8, undefined, n & 3);
            result.engineMs.push(performance.now() - t0);
          }
          n++;
          setTimeout(next, Math.random() * 2 * meanIntervalMs);
        };
        next();
      });
    },
  };
}

publishHarness(setup());
