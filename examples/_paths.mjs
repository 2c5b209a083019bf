// Paths, and whether dist/ needs building: no import of the library here, so
// examples/_run.mjs can build dist/ before anything imports it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const dataDir = join(repoRoot, 'examples', 'data');

/** Newest modification time (ms) of the files under `dir`, 0 if none. */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** True when dist/webgpu-rnn.js is missing or older than the sources it is built from. */
export function libraryIsStale() {
  const lib = join(repoRoot, 'dist', 'webgpu-rnn.js');
  if (!existsSync(lib)) return true;
  return statSync(lib).mtimeMs < Math.max(newest(join(repoRoot, 'src')), newest(join(repoRoot, 'shaders')));
}
