/**
 * Stands in for `webrtc-polyfill` in the browser bundle (vite.config.ts aliases it): simple-peer
 * takes its WebRTC classes from there, and in a browser they are the page's own. The package's
 * browser build also looks for prefixed names (`webkitRTCPeerConnection`) and exports ~20 more
 * classes that padmesh never uses; every browser of the phones' floor has these three unprefixed.
 */
export const { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate } = globalThis;
