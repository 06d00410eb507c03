/**
 * A Web MIDI stand-in, installed in a page before its own code (the ONE mock of the MIDI tests:
 * these machines have no MIDI device and no MIDI system, so a real `MIDIAccess` cannot have
 * ports here). It replaces `navigator.requestMIDIAccess` with one that grants access to the
 * ports named in its options. An output records every `send(data, timestamp)` with the page's
 * `performance.now()` at the call, and throws as Chromium's does once unplugged; it has no
 * `clear()` (Chromium has none). An input delivers the bytes a test gives it as a real
 * `MIDIMessageEvent`. Unplugging and plugging set the port's `state` and fire `statechange` on
 * the access object, as a browser does. Ports get a new id on every page load (names stay).
 *
 * Every message sent is also handed to `window.__midiReport` if the test exposed one
 * (`page.exposeFunction`), and kept in sessionStorage (SENT_KEY), which survives the page: a
 * message sent as the page goes away is read there from the next page of the same origin.
 */

export const SENT_KEY = 'padmesh-test-midi-sent';

export interface MidiSent {
  port: string;
  data: number[];
  /** As given to send(); null when none was. */
  timestamp: number | null;
  /** The page's performance.now() when send() was called. */
  calledAt: number;
}

export interface StandInOptions {
  outputs?: string[];
  inputs?: string[];
}

/** What a test drives in the page: `window.__midi`. */
export interface MidiStandIn {
  sent: MidiSent[];
  /** Times requestMIDIAccess was called. */
  requests: number;
  unplug(name: string): void;
  plug(name: string): void;
  /** An input port receives these bytes (a controller played). */
  receive(name: string, bytes: number[]): void;
}

/** Runs in the page (serialised by Playwright): installs the stand-in. */
function install(options: StandInOptions & { sentKey: string }): void {
  const sent: MidiSent[] = [];
  const report = (entry: MidiSent) => {
    sent.push(entry);
    try {
      const kept = JSON.parse(sessionStorage.getItem(options.sentKey) ?? '[]') as MidiSent[];
      sessionStorage.setItem(options.sentKey, JSON.stringify([...kept, entry]));
    } catch {
      // Not kept: the test reads what it was reported.
    }
    (window as unknown as { __midiReport?: (entry: MidiSent) => void }).__midiReport?.(entry);
  };
  const ports = new Map<string, { port: EventTarget & Record<string, unknown>; kind: 'input' | 'output' }>();
  const access = new EventTarget() as EventTarget & Record<string, unknown>;
  const inputs = new Map<string, unknown>();
  const outputs = new Map<string, unknown>();
  Object.assign(access, { inputs, outputs, sysexEnabled: false, onstatechange: null });

  const makePort = (kind: 'input' | 'output', name: string) => {
    const port = new EventTarget() as EventTarget & Record<string, unknown>;
    const id = `${kind}-${Math.random().toString(36).slice(2)}`;
    Object.assign(port, {
      id,
      name,
      manufacturer: 'padmesh tests',
      version: '1',
      type: kind,
      state: 'connected',
      connection: 'closed',
      open: async () => port,
      close: async () => port,
    });
    if (kind === 'output') {
      port.send = (data: ArrayLike<number>, timestamp?: number) => {
        const calledAt = performance.now();
        if (port.state !== 'connected') throw new DOMException('The port is disconnected.', 'InvalidStateError');
        const bytes = Array.from(data);
        if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new TypeError('not bytes');
        port.connection = 'open';
        report({ port: name, data: bytes, timestamp: timestamp ?? null, calledAt });
      };
      outputs.set(id, port);
    } else {
      let handler: ((event: Event) => void) | null = null;
      Object.defineProperty(port, 'onmidimessage', {
        get: () => handler,
        set: (next: ((event: Event) => void) | null) => {
          handler = next;
          if (next) port.connection = 'open';
        },
      });
      inputs.set(id, port);
    }
    ports.set(name, { port, kind });
  };
  for (const name of options.outputs ?? []) makePort('output', name);
  for (const name of options.inputs ?? []) makePort('input', name);

  const changed = (name: string, state: 'connected' | 'disconnected') => {
    const entry = ports.get(name);
    if (!entry) throw new Error(`no port ${name}`);
    entry.port.state = state;
    if (state === 'disconnected') entry.port.connection = 'closed';
    const event = new Event('statechange');
    Object.defineProperty(event, 'port', { value: entry.port });
    access.dispatchEvent(event);
  };

  const control: MidiStandIn = {
    sent,
    requests: 0,
    unplug: (name) => changed(name, 'disconnected'),
    plug: (name) => changed(name, 'connected'),
    receive(name, bytes) {
      const entry = ports.get(name);
      if (entry?.kind !== 'input') throw new Error(`no input ${name}`);
      if (entry.port.state !== 'connected') return;
      const event = new MIDIMessageEvent('midimessage', { data: new Uint8Array(bytes) });
      const handler = entry.port.onmidimessage as ((event: Event) => void) | null;
      handler?.call(entry.port, event);
    },
  };
  (window as unknown as { __midi: MidiStandIn }).__midi = control;
  Object.defineProperty(Navigator.prototype, 'requestMIDIAccess', {
    configurable: true,
    writable: true,
    value: async () => {
      control.requests++;
      return access;
    },
  });
}

/** The init script installing the stand-in with these ports. */
export function webMidiStandIn(options: StandInOptions): string {
  return `globalThis.__name ??= (fn) => fn;\n(${install.toString()})(${JSON.stringify({ ...options, sentKey: SENT_KEY })});`;
}

/** An init script for a browser without Web MIDI (Safari; Firefox without its add-on). */
export const WITHOUT_WEB_MIDI = 'delete Navigator.prototype.requestMIDIAccess;';
