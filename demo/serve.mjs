// `npm run demo`: the repo's Vite dev server (vite.config.ts, root = the repo)
// with the demo at /demo/. Prints the demo's URL; `npm run demo -- --open` also
// opens it in a browser. Works headless: nothing is opened unless asked.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const open = process.argv.includes('--open');
const server = await createServer({
  configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
  root,
  server: { open: open ? '/demo/' : false },
});
await server.listen();
server.printUrls();
for (const url of server.resolvedUrls?.local ?? []) console.log(`\n  webgpu-rnn demo: ${url}demo/\n`);
