/**
 * The pure parts of client/midi/: the note map, channels, MIDI out's bytes and timestamps, its
 * note-offs, the clock's grid, the remembered settings. MIDI out is given a recording sink in
 * place of a `MIDIOutput` (there is no MIDI device here); the browser test (tests/e2e/midi)
 * runs the same code in the DAW page against a Web MIDI stand-in.
 */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_KITS } from '../../client/audio/kits/index.ts';
import { padNotes } from '../../client/audio/scales.ts';
import { channelFor, DEFAULT_PLAN, DRUM_CHANNEL, PLAYER_CHANNELS } from '../../client/midi/channels.ts';
import {
  CLOCK_PPQN,
  CLOCK_START,
  CLOCK_STOP,
  CLOCK_TICK,
  MidiClock,
  START_GRACE_MS,
  startTime,
  ticksBetween,
} from '../../client/midi/clock.ts';
import { DEFAULT_GATE_MS, MAX_GATE_MS, MidiOut, type MidiSink } from '../../client/midi/midi-out.ts';
import { DRUM_NOTES, drumNotesFor, GM_DRUM_NOTES, padOfNote, padTable } from '../../client/midi/note-map.ts';
import { DEFAULT_SETTINGS, loadSettings } from '../../client/midi/settings.ts';
import type { Tempo } from '../../client/net/hits.ts';

interface Sent {
  data: number[];
  timestamp: number | undefined;
}

/** A `MIDIOutput` stand-in; `withClear`: it can drop its queue (Firefox's `clear()`; Chromium has none). */
class RecordingSink implements MidiSink {
  readonly sent: Sent[] = [];
  cleared = 0;
  clear?: () => void;
  constructor(withClear = false) {
    if (withClear)
      this.clear = () => {
        this.cleared++;
      };
  }
  send(data: number[], timestamp?: number) {
    this.sent.push({ data: [...data], timestamp });
  }
}

describe('the note map', () => {
  it('gives each pad its own General MIDI drum note and maps each back to its pad', () => {
    expect(new Set(GM_DRUM_NOTES).size).toBe(16);
    expect(GM_DRUM_NOTES.slice(0, 2)).toEqual([36, 38]); // kick, snare
    GM_DRUM_NOTES.forEach((note, pad) => {
      expect(padOfNote(note)).toBe(pad);
      expect(DRUM_NOTES[pad]).toBe(note);
    });
  });

  it('maps GM notes of the same kind to a pad (a second crash is the crash), and others to none', () => {
    expect(padOfNote(35)).toBe(0); // Acoustic Bass Drum → kick
    expect(padOfNote(40)).toBe(1); // Electric Snare → snare
    expect(padOfNote(57)).toBe(6); // Crash 2 → crash
    expect(padOfNote(20)).toBe(-1);
    expect(padOfNote(127)).toBe(-1);
  });
});

describe("each built-in kit's drum notes", () => {
  const notesOf = (id: string) => {
    const kit = BUILT_IN_KITS.find((design) => design.id === id);
    if (!kit) throw new Error(`no kit ${id}`);
    return { ids: kit.pads.map((pad) => pad.id), notes: drumNotesFor(kit.pads.map((pad) => pad.id)) };
  };

  it('are 16 distinct GM percussion keys per kit, each mapping back to its pad', () => {
    expect(BUILT_IN_KITS.length).toBeGreaterThanOrEqual(3);
    for (const kit of BUILT_IN_KITS) {
      const notes = drumNotesFor(kit.pads.map((pad) => pad.id));
      expect(new Set(notes).size, kit.id).toBe(16);
      for (const note of notes) expect(note >= 35 && note <= 81, `${kit.id} ${note}`).toBe(true);
      const table = padTable(notes);
      notes.forEach((note, pad) => {
        expect(padOfNote(note, table)).toBe(pad);
      });
    }
  });

  it("are the sounds' own GM keys: the electronic kit as the default map, a pedal hat 44, a low bongo 61", () => {
    expect(notesOf('electronic').notes).toEqual(GM_DRUM_NOTES);
    const acoustic = notesOf('acoustic');
    expect(acoustic.notes[acoustic.ids.indexOf('hat-pedal')]).toBe(44);
    expect(acoustic.notes[acoustic.ids.indexOf('tom-floor')]).toBe(41);
    const percussion = notesOf('percussion');
    expect(percussion.notes[percussion.ids.indexOf('bongo-low')]).toBe(61);
    expect(percussion.notes[percussion.ids.indexOf('tumba')]).toBe(64);
    // A near kind maps to a pad only where the kit has no pad on that key: the acoustic kit's own pedal hat.
    expect(padOfNote(44, padTable(acoustic.notes))).toBe(acoustic.ids.indexOf('hat-pedal'));
    expect(padOfNote(44)).toBe(4); // the electronic kit: its closed hat
  });

  it('give a pad GM has no key for, or a second on a taken key, a free key', () => {
    expect(drumNotesFor(['kick', 'mystery', 'kick'])).toEqual([36, 39, 40]);
  });
});

describe('channels', () => {
  it('puts drums on 10 and each melodic player on their own channel by default', () => {
    expect(channelFor(DEFAULT_PLAN, 0, true)).toBe(DRUM_CHANNEL);
    expect(channelFor(DEFAULT_PLAN, 3, true)).toBe(DRUM_CHANNEL);
    expect(channelFor(DEFAULT_PLAN, 0, false)).toBe(0);
    expect(channelFor(DEFAULT_PLAN, 9, false)).toBe(10); // 10 is skipped
    expect(channelFor(DEFAULT_PLAN, -1, true)).toBe(DRUM_CHANNEL); // the laptop
  });

  it('gives every phone its own channel per player (the laptop keeps 10), or everyone one', () => {
    const perPlayer = { mode: 'per-player', channel: 0 } as const;
    const seen = Array.from({ length: 15 }, (_, player) => channelFor(perPlayer, player, true));
    expect(new Set(seen).size).toBe(15);
    expect(seen).not.toContain(DRUM_CHANNEL);
    expect(channelFor(perPlayer, 15, true)).toBe(PLAYER_CHANNELS[0]); // the 16th shares the first's
    expect(channelFor(perPlayer, -1, true)).toBe(DRUM_CHANNEL);
    expect(channelFor({ mode: 'one', channel: 4 }, 7, false)).toBe(4);
    expect(channelFor({ mode: 'one', channel: 4 }, -1, true)).toBe(4);
  });
});

describe('MIDI out', () => {
  it('sends an instant hit as note-on now and note-off a gate later, on the player channel', () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    const before = performance.now();
    out.hit('drummer', 1, 90, Number.NaN);
    const after = performance.now();
    const [on, off] = sink.sent;
    expect(on?.data).toEqual([0x99, 38, 90]);
    expect(off?.data).toEqual([0x89, 38, 0x40]);
    expect(on?.timestamp).toBeGreaterThanOrEqual(before);
    expect(on?.timestamp).toBeLessThanOrEqual(after);
    expect((off?.timestamp as number) - (on?.timestamp as number)).toBe(DEFAULT_GATE_MS);
  });

  it("sends a steady hit at its planned time on the performance clock, and a melodic player's notes", () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    out.setGateMs(250);
    const notes = padNotes(0, 'minor-pentatonic', 1);
    out.setPart('drummer', null);
    out.setPart('bassist', notes);
    const playAt = performance.timeOrigin + performance.now() + 40;
    out.hit('bassist', 12, 127, playAt);
    const [on, off] = sink.sent;
    expect(sink.sent).toHaveLength(2);
    expect(on?.data).toEqual([0x91, 24, 127]); // C1; player 1's channel (2)
    expect(on?.timestamp).toBeCloseTo(playAt - performance.timeOrigin, 3);
    expect(off?.data).toEqual([0x81, 24, 0x40]);
    expect(off?.timestamp).toBeCloseTo(playAt - performance.timeOrigin + 250, 3);
    expect(out.channelOf('bassist')).toBe(1);
    expect(out.channelOf('drummer')).toBe(DRUM_CHANNEL);
  });

  it("plays the drum notes it is given (the chosen kit's)", () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    out.setDrumNotes([44, 45, 46]);
    out.hit(null, 0, 100, Number.NaN);
    expect(sink.sent[0]?.data).toEqual([0x99, 44, 100]);
  });

  it('keeps velocities in 1–127, refuses pads outside 0–15, and sends nothing without an output', () => {
    const out = new MidiOut();
    out.hit('drummer', 0, 100, Number.NaN); // no output: nothing, no error
    const sink = new RecordingSink();
    out.setOutput(sink);
    out.hit('drummer', 0, 300, Number.NaN);
    out.hit('drummer', 0, 0, Number.NaN);
    out.hit('drummer', 16, 100, Number.NaN);
    expect(sink.sent.filter((m) => (m.data[0] as number) >> 4 === 9).map((m) => m.data[2])).toEqual([127, 1]);
  });

  it('changes channels with the plan, and the gate within its bounds', () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    out.setPart('a', null);
    out.setPlan({ mode: 'per-player', channel: 0 });
    expect(out.channelOf('a')).toBe(0);
    out.setPlan({ mode: 'one', channel: 15 });
    out.hit('a', 0, 64, Number.NaN);
    out.hit(null, 0, 64, Number.NaN);
    expect(sink.sent.map((m) => m.data[0])).toEqual([0x9f, 0x8f, 0x9f, 0x8f]);
    out.setGateMs(1e9);
    expect(out.gateMs).toBe(MAX_GATE_MS);
    out.setGateMs(Number.NaN);
    expect(out.gateMs).toBe(DEFAULT_GATE_MS);
  });

  it('ends every note still sounding at once on the old output when the output is switched', () => {
    const out = new MidiOut();
    const first = new RecordingSink(true);
    out.setOutput(first);
    out.setGateMs(5_000);
    out.hit('a', 0, 100, Number.NaN);
    out.hit('a', 4, 100, Number.NaN);
    const second = new RecordingSink();
    out.setOutput(second);
    expect(first.cleared).toBe(1); // its queued messages dropped where the browser can
    expect(first.sent.slice(4)).toEqual([
      { data: [0x89, 36, 0x40], timestamp: undefined },
      { data: [0x89, 42, 0x40], timestamp: undefined },
    ]);
    out.endNotes(); // nothing sounds on the new one
    expect(second.sent).toEqual([]);
  });

  it('does not end again notes whose note-off has already gone out', () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    out.setGateMs(5);
    out.hit('a', 0, 100, performance.timeOrigin + performance.now() - 1_000); // planned long ago
    out.endNotes();
    expect(sink.sent).toHaveLength(2);
  });

  it('sends nothing for a hit played from MIDI in (no loop through a virtual port), and counts a refusing port', () => {
    const out = new MidiOut();
    const sink = new RecordingSink();
    out.setOutput(sink);
    const played: number[] = [];
    out.withoutEcho(
      (pad, velocity) => {
        played.push(pad, velocity);
        out.hit(null, pad, velocity, Number.NaN);
      },
      3,
      77,
    );
    expect(played).toEqual([3, 77]);
    expect(sink.sent).toEqual([]);
    out.hit(null, 3, 77, Number.NaN); // echo is back on
    expect(sink.sent).toHaveLength(2);
    out.setOutput({
      send() {
        throw new DOMException('port closed', 'InvalidStateError');
      },
    });
    expect(() => out.hit(null, 3, 77, Number.NaN)).not.toThrow();
    expect(out.failures).toBe(1);
  });
});

describe('MIDI clock', () => {
  it('puts 24 ticks a beat on the tempo grid, after the last one handed over', () => {
    const tickMs = 500 / CLOCK_PPQN; // 120 BPM
    const ticks = ticksBetween(1000, tickMs, 1000 - tickMs, 1000 + 500, []);
    expect(ticks).toHaveLength(CLOCK_PPQN + 1);
    ticks.forEach((t, k) => {
      expect(t).toBeCloseTo(1000 + k * tickMs, 9);
    });
    expect(ticksBetween(1000, tickMs, ticks.at(-1) as number, 1500, [])).toEqual([]);
    expect(ticksBetween(0, 10, 0, 1e9, [], 5)).toHaveLength(5); // bounded
  });

  it('starts with the beat if it just started, else at the next bar', () => {
    expect(startTime(1000, 500, 4, 1000 + START_GRACE_MS - 1)).toBe(1000);
    expect(startTime(1000, 500, 4, 1000 + START_GRACE_MS + 1)).toBe(3000);
    expect(startTime(1000, 500, 4, 3000)).toBe(3000);
  });

  it('sends Start, ticks and Stop as the tempo runs and stops', () => {
    const sink = new RecordingSink();
    const now = performance.now();
    let tempo: Tempo = {
      version: 1,
      bpm: 120,
      beatsPerBar: 4,
      running: false,
      anchor: performance.timeOrigin + now,
    };
    const clock = new MidiClock(
      () => sink,
      () => tempo,
    );
    clock.pump(now);
    expect(sink.sent).toEqual([]); // not enabled
    clock.setEnabled(true);
    clock.pump(now);
    expect(sink.sent).toEqual([]); // the beat is not running
    tempo = { ...tempo, running: true };
    clock.pump(now);
    const [start, ...ticks] = sink.sent;
    expect(start?.data).toEqual([CLOCK_START]);
    expect(start?.timestamp).toBeCloseTo(now, 3); // the beat's anchor, which was now (ms since the epoch: a µs of rounding)
    expect(ticks.length).toBeGreaterThan(0);
    ticks.forEach((tick, k) => {
      expect(tick.data).toEqual([CLOCK_TICK]);
      expect(tick.timestamp).toBeCloseTo(now + (k * 500) / CLOCK_PPQN, 3);
    });
    const handed = sink.sent.length;
    clock.pump(now); // nothing new is due
    expect(sink.sent).toHaveLength(handed);
    tempo = { ...tempo, running: false };
    clock.pump(now + 10);
    expect(sink.sent.at(-1)).toEqual({ data: [CLOCK_STOP], timestamp: now + 10 });
    clock.dispose();
  });
});

describe('MIDI settings', () => {
  it('reads back what was kept, and the defaults for anything unreadable', () => {
    const kept = { ...DEFAULT_SETTINGS, output: 'IAC Driver Bus 1', mode: 'per-player', clock: true, gateMs: 20 };
    expect(loadSettings(JSON.stringify(kept))).toEqual(kept);
    expect(loadSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings('{not json')).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(JSON.stringify({ mode: 'weird' }))).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(JSON.stringify({ gateMs: 1e12 })).gateMs).toBe(MAX_GATE_MS);
  });
});
