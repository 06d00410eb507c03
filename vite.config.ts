import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { precompress } from './scripts/precompress.ts';

const signalPort = Number(process.env.PORT ?? 8080);

export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  plugins: [solid(), precompress()],
  resolve: {
    alias: [
      // simple-peer's base class, a stream padmesh never uses as one: a small stand-in saves
      // ~35 KB of stream code (and a Node `events` polyfill) on every phone. See the file.
      { find: /^streamx$/, replacement: fileURLToPath(new URL('./client/net/peer-stream.ts', import.meta.url)) },
      // simple-peer logs through `debug`; nobody reads those logs on a phone.
      { find: /^debug$/, replacement: fileURLToPath(new URL('./client/net/no-debug.ts', import.meta.url)) },
    ],
  },
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    // Safari 15.4 (iOS 15.4) is the oldest that runs the app (Object.hasOwn); private fields stay native.
    target: ['es2022', 'chrome100', 'edge100', 'firefox115', 'safari15.4'],
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
