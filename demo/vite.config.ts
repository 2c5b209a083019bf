// `npm run build:demo`: the demo app as static files in dist/demo/, with
// relative URLs (base './') so any web server can host it from any path. The
// worker is an ES module (it shares the library's code-split chunks); WGSL comes
// in as strings through `?raw`, as in the library build.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('../dist/demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
