/**
 * Types for the parts of @thaunknown/simple-peer (which ships none) that padmesh uses.
 * The underscored members are simple-peer internals; peer-channel.ts says why it uses them.
 */
declare module '@thaunknown/simple-peer/lite.js' {
  export interface PeerOptions {
    initiator?: boolean;
    trickle?: boolean;
    config?: RTCConfiguration;
    channelName?: string;
    channelConfig?: RTCDataChannelInit;
  }

  export default class Peer {
    /** Merged under each peer's `config` (`Object.assign({}, Peer.config, options.config)`). */
    static readonly config: RTCConfiguration;
    constructor(options?: PeerOptions);
    readonly connected: boolean;
    readonly destroyed: boolean;
    signal(data: unknown): void;
    send(chunk: ArrayBufferView | ArrayBuffer | string): void;
    destroy(error?: Error): void;
    on(event: 'signal', listener: (data: object) => void): this;
    on(event: 'connect' | 'close', listener: () => void): this;
    on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
    /** The data channel, once created (initiator: at once; answerer: when it arrives). */
    _channel: RTCDataChannel | null;
    /** The connection (null once simple-peer's deferred cleanup has run). */
    _pc: RTCPeerConnection | null;
    /** Called for every message on the channel; simple-peer's own pushes into a stream. */
    _onChannelMessage(event: MessageEvent): void;
  }
}
