/**
 * The page of bench/engine-schedule.ts: padmesh's real sound engine (client/audio/engine.ts, the
 * sampler, playing today's voices rendered) beside a plain Tone.js MembraneSynth on a default `new Context()` (lookAhead 0.1 s),
 * each fed hits as messages arriving on a real RTCDataChannel (a loopback pair inside this page).
 * For each arrival it records, first thing in `onmessage`, the AudioContext's `currentTime`, then
 * when the sound is scheduled to start, and how long the call took on the main thread.
 */
import { Context, MembraneSynth } from 'tone';
import { createDrumEngine, type DrumEngine } from '../../client/audio/engine.ts';
import { KIT } from '../../client/audio/kit.ts';
import { ELECTRONIC_KIT } from '../../client/audio/kits/index.ts';
import { publishHarness } from './publish-harness.ts';

export type Contender = 'padmesh' | 'tone';

export interface Arrivals {
  count: number;
  /** Scheduled start − currentTime read at arrival, ms. */
  leadMs: number[];
  /** Scheduled start − the engine's own audio-clock estimate of the arrival moment (padmesh only), ms. */
  leadEdgeMs: number[];
  /** Main-thread time of the trigger call, ms. */
  callMs: number[];
  pad: number[];
}

interface Harness {
  ready: boolean;
  sampleRate: number;
  /** What the browser reports: baseLatency + outputLatency, ms. */
  outputLatencyMs: number;
  isolated: boolean;
  run(contender: Contender, count: number, meanIntervalMs: number): Promise<Arrivals>;
}

async function setup(): Promise<Harness> {
  const engine: DrumEngine = createDrumEngine();
  await engine.start();
  await engine.loadKit(ELECTRONIC_KIT); // the sampler plays the kit rendered; an empty slot plays nothing

  // Tone as its documentation has it: a default context (lookAhead 0.1 s) and triggerAttack at now().
  const tone = new Context();
  await tone.resume();
  const synth = new MembraneSynth({ context: tone }).toDestination();
  const toneRaw = tone.rawContext as unknown as BaseAudioContext;

  // A loopback pair in this page: hits arrive as real data channel messages.
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = ({ candidate }) => void (candidate && b.addIceCandidate(candidate));
  b.onicecandidate = ({ candidate }) => void (candidate && a.addIceCandidate(candidate));
  const out = a.createDataChannel('hits', { ordered: false, maxRetransmits: 0 });
  const incoming = new Promise<RTCDataChannel>((resolve) => {
    b.ondatachannel = ({ channel }) => resolve(channel);
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription as RTCSessionDescription);
  const into = await incoming;
  into.binaryType = 'arraybuffer';
  if (out.readyState !== 'open') await new Promise((resolve) => out.addEventListener('open', resolve, { once: true }));

  let onArrival: (pad: number) => void = () => {};
  into.onmessage = (event: MessageEvent<ArrayBuffer>) => onArrival(new Uint8Array(event.data)[0] as number);

  return {
    ready: true,
    sampleRate: engine.sampleRate,
    outputLatencyMs: engine.outputLatencyMs() ?? Number.NaN,
    isolated: crossOriginIsolated,
    run(contender, count, meanIntervalMs) {
      const result: Arrivals = { count: 0, leadMs: [], leadEdgeMs: [], callMs: [], pad: [] };
      onArrival =
        contender === 'padmesh'
          ? (pad) => {
              const wall = performance.timeOrigin + performance.now();
              const now = engine.currentTime;
              const t0 = performance.now();
              engine.trigger(pad, 0.8);
              result.callMs.push(performance.now() - t0);
              const start = engine.lastStartTime;
              result.leadMs.push((start - now) * 1000);
              result.leadEdgeMs.push((start - engine.contextTimeAt(wall)) * 1000);
              result.pad.push(pad);
              result.count += 1;
            }
          : () => {
              const now = toneRaw.currentTime;
              const t0 = performance.now();
              const start = tone.now(); // what triggerAttack(note) with no time uses
              synth.triggerAttack('C1', start, 0.8);
              result.callMs.push(performance.now() - t0);
              result.leadMs.push((start - now) * 1000);
              result.pad.push(0);
              result.count += 1;
            };
      // Sent at random intervals (mean as asked), so arrivals fall at every phase of the audio thread's bursts.
      return new Promise((resolve) => {
        let sent = 0;
        const packet = new Uint8Array(22);
        const send = () => {
          if (sent >= count) {
            const until = performance.now() + 2_000;
            const wait = () => {
              if (result.count >= count || performance.now() > until) resolve(result);
              else setTimeout(wait, 10);
            };
            wait();
            return;
          }
          packet[0] = sent % KIT.length;
          out.send(packet);
          sent += 1;
          setTimeout(send, Math.random() * 2 * meanIntervalMs);
        };
        send();
      });
    },
  };
}

publishHarness(setup());
