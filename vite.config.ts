import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { buildTargets, phoneBrowsers } from './scripts/browser-floor.ts';
import { inlineScript } from './scripts/inline-script.ts';
import { precompress } from './scripts/precompress.ts';

const signalPort = Number(process.env.PORT ?? 8080);
const phoneTargets = buildTargets(phoneBrowsers());

export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  plugins: [
    solid(),
    // A returning player's socket and join, opened while the app's code is still loading (the file says how).
    inlineScript(fileURLToPath(new URL('./client/src/early-join.ts', import.meta.url)), phoneTargets),
    precompress(),
  ],
  resolve: {
    alias: [
      // simple-peer's base class, a stream padmesh never uses as one: a small stand-in saves
      // ~35 KB of stream code (and a Node `events` polyfill) on every phone. See the file.
      { find: /^streamx$/, replacement: fileURLToPath(new URL('./client/net/peer-stream.ts', import.meta.url)) },
      // simple-peer logs through `debug`; nobody reads those logs on a phone.
      { find: /^debug$/, replacement: fileURLToPath(new URL('./client/net/no-debug.ts', import.meta.url)) },
      // simple-peer's WebRTC classes: the page's own (the package's browser build carries more than it needs).
      {
        find: /^webrtc-polyfill$/,
        replacement: fileURLToPath(new URL('./client/net/webrtc-globals.ts', import.meta.url)),
      },
    ],
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    // The phones' floor, package.json's `browserslist` (iOS Safari 15.4, Chrome 100, Firefox 115): syntax
    // is lowered for its oldest engines. For Safari < 16 that lowers every class field (WebKit bug
    // 236843), and `#private` members become WeakMaps: the hit path's classes use TS `private` instead
    // (docs/architecture.md, "The phones' floor"). npm test checks the phone's chunks against the floor.
    target: phoneTargets,
    // Vite's modulepreload polyfill (for Safari < 17) runs inside the entry chunk, so after everything the
    // entry imports has loaded: it cannot speed up a phone's page, and each phone would download it. Without
    // it, such a browser fetches the DAW page's chunks as it imports them rather than a little ahead.
    modulePreload: { polyfill: false },
  },
  server: {
    // Phones on the LAN open the dev server too.
    host: true,
    proxy: {
      // xfwd: the signal server (started with --trust-proxy by npm run dev) sees each phone's address.
      '/ws': { target: `ws://localhost:${signalPort}`, ws: true, xfwd: true },
      '/api': { target: `http://localhost:${signalPort}`, xfwd: true },
      '/healthz': { target: `http://localhost:${signalPort}`, xfwd: true },
    },
  },
});
