import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const signalPort = Number(process.env.PORT ?? 8080);

export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  plugins: [solid()],
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
  },
  server: {
    // Phones on the LAN open the dev server too.
    host: true,
    proxy: {
      '/ws': { target: `ws://localhost:${signalPort}`, ws: true },
      '/api': { target: `http://localhost:${signalPort}` },
      '/healthz': { target: `http://localhost:${signalPort}` },
    },
  },
});
