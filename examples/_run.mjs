// `npm run example -- <name> [options]`: builds the library (npm run build:lib)
// when dist/webgpu-rnn.js is missing or older than src/ or shaders/, then runs
// examples/<name>.mjs with the options, in this process's environment.
//   npm run example -- tagging --backend cpu
//   npm run example                              (lists the examples)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { libraryIsStale, repoRoot } from './_paths.mjs';

const dir = join(repoRoot, 'examples');
const names = readdirSync(dir).filter((f) => f.endsWith('.mjs') && !f.startsWith('_')).map((f) => f.slice(0, -4)).sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(`usage: npm run example -- <name> [--backend cpu|webgpu|wasm] [--quick] [--help]\nexamples: ${names.join(', ')}`);
  process.exit(name ? 0 : 2);
}
const file = join(dir, `${name.replace(/\.mjs$/, '')}.mjs`);
if (!names.includes(name.replace(/\.mjs$/, '')) || !existsSync(file)) {
  console.error(`no example '${name}'; examples: ${names.join(', ')}`);
  process.exit(2);
}
if (libraryIsStale()) {
  console.log('building the library (dist/ is missing or older than src/): npm run build:lib');
  const b = spawnSync('npm', ['run', 'build:lib', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, [file, ...rest], { cwd: repoRoot, stdio: 'inherit' });
process.exit(r.status ?? 1);
