// What every example shares: its command line (--backend, --quick, --help and
// its own --key value options), the runtime it runs on, and the last line it
// prints, `result: {...}` (JSON of what it measured; tests/examples.test.ts reads it).
//
// The examples import the library as an app would, `from 'webgpu-rnn'`: inside
// this repository Node resolves the package's own name (package.json "exports")
// to dist/webgpu-rnn.js, so the library must be built first. `npm run example --
// <name> ...` (examples/_run.mjs) builds it when it is missing or older than
// src/ and shaders/; after `npm run build:lib`, `node examples/<name>.mjs` works.
import { existsSync } from 'node:fs';
import { createRuntime } from 'webgpu-rnn';
import { libraryIsStale } from './_paths.mjs';

export { dataDir, repoRoot } from './_paths.mjs';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const BACKENDS = ['cpu', 'webgpu', 'wasm'];

function usage(name, about, options) {
  const lines = [
    `usage: node examples/${name}.mjs [--backend cpu|webgpu|wasm] [--quick]${Object.keys(options).map((k) => ` [--${k} N]`).join('')}`,
    `       npm run example -- ${name} [options]      (builds dist/ first when needed)`,
    '',
    about,
    '',
    '  --backend   cpu (the float64 reference), webgpu (default; in Node through Dawn, the `webgpu` package),',
    "              or wasm where this build of the library has it (createRuntime refuses it otherwise)",
    '  --quick     tiny settings (seconds): what tests/examples.test.ts runs',
  ];
  for (const [k, v] of Object.entries(options)) lines.push(`  --${k.padEnd(10)}default ${v.default}${v.quick !== undefined ? `, ${v.quick} with --quick` : ''}: ${v.help}`);
  return lines.join('\n');
}

/**
 * Parses the command line: `options` is { key: { default, quick?, help } }, all
 * numbers. Unknown flags and malformed values end the program with a message.
 */
export function parseArgs(name, about, options = {}, argv = process.argv.slice(2)) {
  const fail = (msg) => {
    console.error(`${name}: ${msg}\n\n${usage(name, about, options)}`);
    process.exit(2);
  };
  const got = { backend: 'webgpu', quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage(name, about, options));
      process.exit(0);
    }
    if (a === '--quick') {
      got.quick = true;
      continue;
    }
    const m = /^--([a-zA-Z][\w-]*)(?:=(.*))?$/.exec(a);
    if (!m) fail(`unexpected argument '${a}'`);
    const key = m[1];
    const value = m[2] ?? argv[++i];
    if (value === undefined) fail(`--${key} needs a value`);
    if (key === 'backend') {
      if (!BACKENDS.includes(value)) fail(`--backend must be one of ${BACKENDS.join(', ')}, got '${value}'`);
      got.backend = value;
    } else if (key in options) {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) fail(`--${key} must be a number, got '${value}'`);
      got[key] = n;
    } else fail(`unknown option --${key}`);
  }
  for (const [k, v] of Object.entries(options)) if (!(k in got)) got[k] = got.quick && v.quick !== undefined ? v.quick : v.default;
  return got;
}

/**
 * Creates the runtime for `backend` and prints which one runs. For webgpu in
 * Node, Dawn needs a Vulkan driver: where VK_ICD_FILENAMES is unset and
 * Chromium's SwiftShader (a CPU emulation of a GPU) is installed, it is used,
 * and the output says so.
 */
export async function openRuntime(backend) {
  if (backend === 'webgpu' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    console.log(`VK_ICD_FILENAMES was unset: set to ${SWIFTSHADER_ICD} (SwiftShader, a CPU emulation of a GPU)`);
  }
  let rt;
  try {
    rt = await createRuntime({ backend });
  } catch (e) {
    console.error(`createRuntime({ backend: '${backend}' }) failed: ${e?.name ?? 'Error'}: ${e?.message ?? e}`);
    process.exit(1);
  }
  console.log(`backend: ${rt.backend} (${rt.adapterName})`);
  return rt;
}

/** parseArgs + openRuntime, and a warning when dist/ is older than the sources. */
export async function setup(name, about, options = {}) {
  const args = parseArgs(name, about, options);
  if (libraryIsStale()) console.log('warning: dist/webgpu-rnn.js is missing or older than src/: this runs the old build (npm run build:lib, or npm run example, rebuilds it)');
  const rt = await openRuntime(args.backend);
  console.log(`settings: ${JSON.stringify(args)}`);
  return { args, rt, t0: performance.now() };
}

/** Prints the measured numbers as the last line, `result: {...}`, with the wall time since `t0`. */
export function report(t0, metrics) {
  const seconds = (performance.now() - t0) / 1000;
  console.log(`time: ${seconds.toFixed(1)} s`);
  console.log(`result: ${JSON.stringify({ ...metrics, seconds: Number(seconds.toFixed(2)) })}`);
}

/** A 32-bit linear congruential generator (Numerical Recipes' constants): uniform in [0, 1). */
export function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Index of the largest of `width` values in row `r` of `v` (the first of equal maxima). */
export function argmax(v, r, width) {
  let best = 0;
  for (let k = 1; k < width; k++) if (v[r * width + k] > v[r * width + best]) best = k;
  return best;
}

/** Formats a number for tables: fixed for moderate magnitudes, exponential otherwise. */
export function fmt(x, digits = 4) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
}
