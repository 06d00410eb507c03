/**
 * Stands in for `webrtc-polyfill` in the browser bundle (vite.config.ts aliases it): simple-peer
 * takes its WebRTC classes from here, and in a browser they are the page's own. The package's
 * browser build also looks for prefixed names (`webkitRTCPeerConnection`) and exports ~20 more
 * classes that padmesh never uses; every browser of the phones' floor has these three unprefixed.
 */
export const { RTCSessionDescription, RTCIceCandidate } = globalThis;

/**
 * What simple-peer makes its connections with: the page's own class, or the DAW's stand-in that
 * hands out a connection made ahead of need (spare-connection.ts). An exported `let` is a live
 * binding, so simple-peer sees the change.
 */
export let RTCPeerConnection = globalThis.RTCPeerConnection;

export function usePeerConnectionClass(make: typeof globalThis.RTCPeerConnection): void {
  RTCPeerConnection = make;
}
