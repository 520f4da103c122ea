import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

// Built into dist/web, which express serves at /. JSX is compiled by Vite's own transform
// (automatic runtime); the React plugin would only add dev-server fast refresh.
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.join(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    sourcemap: true,
    // Chromium, Edge and Firefox of the last two years: what a contact center's desktops run.
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite web` during development: the API and the socket go to a running `npm start`.
    proxy: { '/api': 'http://127.0.0.1:3000', '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true } },
  },
});
