// The benchmark driver (issue 4): `npm run bench` (scripts/bench.sh).
//
//   npm run bench                      # headless Chromium (WebGPU on this machine's adapter), full matrix
//   npm run bench -- --quick           # small shapes, 3 reps: 1–1.5 min on SwiftShader (2 cores)
//   npm run bench -- --node            # the same suite in Node through Dawn (the `webgpu` package)
//   npm run bench -- --cells lstm,gru --shapes 1x256x64x128,32x64x64x128 --paths ours-step,tfjs-webgpu --reps 9
//   npm run bench -- --parity-only     # no timings: outputs and gradients of every path compared
//
// Options: --cells lstm,gru,gru_torch,rnn   --shapes BxTxIxH,...   --paths (see bench/page.ts)
//          --reps N (timed repetitions, at most; default 5; --quick 3)   --min-reps N (at least, default 1)
//          --budget S (seconds per measurement: once its samples took S, a path's inference or training step on
//            one row takes no more beyond --min-reps; default 5, so calls under 5 s get ≥ 2 samples and longer
//            ones 1; the JSON and the tables give each median's n. --min-reps 2 --budget 20: ~50 min here)
//          --warmup N (untimed runs after the parity run, default 1; --quick 0)   --long-call S (no warm-up for a
//            call whose parity run took ≥ S seconds: it is warm, and a warm-up would cost a sample; default 1)
//          --no-train   --no-roofline   --parity-only   --quick   --node
//          --tfjs-gpu-time S|all (tfjs-webgpu's GPU-only time, one extra tf.time() run, where its call is under S seconds;
//            default 5: 'all' adds ~11 min to the full matrix here)   --no-tfjs-gpu-time (none)
//          --generate N (tokens per call in the generation rows, default 128; --quick 32; 0: none)
//          --out DIR (default bench/results)   --name PREFIX (files PREFIX-<timestamp>.*)
//          --parity-paths a,b (paths that run once for parity, untimed)   --tol-output X   --tol-grad X
// Paths: ours-step ours-persistent ours-cpu ours-wasm tfjs-webgpu tfjs-webgpu-packed tfjs-cpu tfjs-wasm ort-webgpu ort-wasm
// Prints progress while it runs, then a table; writes DIR/<timestamp>.json and
// DIR/<timestamp>.html (the report, self-contained, with charts; see bench/report.mjs).
// Exits 1 if any pair of paths disagrees beyond the tolerances (a fast wrong answer
// is a failure) or the run failed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createServer } from 'vite';
import { renderMarkdown, renderReport, renderTable } from './report.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// keep in step with QUICK_SHAPES in bench/page.ts (tests/bench_quick.test.ts runs those)
export const QUICK = {
  // small shapes only: the full matrix's (1, 1, 64, 128) and one short batched
  // sequence (tfjs-webgpu as shipped costs ~0.1 s per step on SwiftShader)
  shapes: [
    [1, 1, 64, 128],
    [2, 8, 64, 128],
  ],
  reps: 3,
  // the parity run (and, for training, the dispatch-counting step) already warmed
  // every shader up: no extra untimed runs
  warmup: 0,
  // generation rows: 32 tokens per generate() call
  generateTokens: 32,
};

export function parseArgs(argv) {
  const opts = { node: false, quick: false, out: resolve(root, 'bench/results'), config: {} };
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  const seconds = (a, v) => {
    const x = Number(v);
    if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`bench: ${a} '${v}', expected a number of seconds ≥ 0`);
    return x * 1000;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--node') opts.node = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--cells') opts.config.cells = list(val());
    else if (a === '--paths') opts.config.paths = list(val());
    else if (a === '--parity-paths') opts.config.parityOnlyPaths = list(val());
    else if (a === '--name') opts.name = val();
    else if (a === '--shapes')
      opts.config.shapes = list(val()).map((s) => {
        const d = s.split(/[x×]/).map(Number);
        if (d.length !== 4 || d.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bench: --shapes '${s}', expected BxTxIxH, e.g. 32x64x64x128`);
        return d;
      });
    else if (a === '--reps') opts.config.reps = Number(val());
    else if (a === '--warmup') opts.config.warmup = Number(val());
    else if (a === '--min-reps') opts.config.minReps = Number(val());
    else if (a === '--budget') opts.config.budgetMs = seconds(a, val());
    else if (a === '--long-call') opts.config.longCallMs = seconds(a, val());
    else if (a === '--generate') opts.config.generateTokens = Number(val());
    else if (a === '--no-train') opts.config.train = false;
    else if (a === '--no-roofline') opts.config.roofline = false;
    else if (a === '--no-tfjs-gpu-time') opts.config.tfjsGpuTimeMaxMs = 0;
    else if (a === '--tfjs-gpu-time') {
      const v = val();
      opts.config.tfjsGpuTimeMaxMs = v === 'all' ? 1e9 : seconds(a, v);
    }
    else if (a === '--parity-only') opts.config.timings = false;
    else if (a === '--tol-output') opts.config.tolOutput = Number(val());
    else if (a === '--tol-grad') opts.config.tolGradRel = Number(val());
    else if (a === '--out') opts.out = resolve(val());
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`bench: unknown option '${a}'. Hint: --help`);
  }
  if (opts.quick) opts.config = { ...QUICK, ...opts.config };
  return opts;
}

/** The suite in Node: bench/page.ts loaded through Vite's SSR loader, WebGPU from Dawn. */
export async function runInNode(config, progress) {
  const server = await createServer({
    configFile: resolve(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    clearScreen: false,
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  try {
    const page = await server.ssrLoadModule('/bench/page.ts');
    return await page.runBench(config, progress);
  } finally {
    await server.close();
  }
}

/** The suite in headless Chromium: bench/index.html on Vite's dev server. */
export async function runInBrowser(config, progress) {
  const require = createRequire(import.meta.url);
  const { executablePath } = require(resolve(root, '.puppeteerrc.cjs'));
  const { default: puppeteer } = await import('puppeteer');
  const server = await createServer({
    configFile: resolve(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null },
    // tfjs is CommonJS inside: pre-bundle it up front, and discover nothing else, so
    // Vite never reloads the page halfway through a run.
    // (onnxruntime-web is ES modules already: served as it is, its .wasm/.mjs from
    // /node_modules/onnxruntime-web/dist/, env.wasm.wasmPaths in bench/page.ts)
    optimizeDeps: {
      noDiscovery: true,
      include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm'],
    },
  });
  let browser;
  try {
    await server.listen();
    const { port } = server.httpServer.address();
    browser = await puppeteer.launch({
      headless: true,
      executablePath,
      // as tests/helpers/browser.ts
      args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      protocolTimeout: 0,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    const errors = [];
    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('[bench] ')) progress(text.slice(8));
      else if (msg.type() === 'error') errors.push(text);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message ?? err}`));
    const dies = new Promise((_, reject) => {
      page.once('error', (err) => reject(new Error(`bench: the page crashed: ${err.message}`)));
      browser.once('disconnected', () => reject(new Error('bench: the browser disconnected')));
    });
    dies.catch(() => {});
    const url = `http://127.0.0.1:${port}/bench/index.html?config=${encodeURIComponent(JSON.stringify(config))}`;
    await Promise.race([page.goto(url, { waitUntil: 'load' }), dies]);
    await Promise.race([page.waitForFunction('window.__done === true', { polling: 500, timeout: 0 }), dies]);
    const result = await page.evaluate(() => window.__result);
    if (!result || result.error) throw new Error(`bench: the page failed: ${result?.error ?? 'no result'}\n${result?.stack ?? ''}\n${errors.join('\n')}`);
    for (const e of errors) progress(`console error: ${e}`);
    return result;
  } finally {
    await browser?.close();
    await server.close();
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    const text = (await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8');
    console.log(text.split('\n').filter((l) => l.startsWith('//')).slice(0, 25).map((l) => l.slice(3)).join('\n'));
    return;
  }
  const t0 = performance.now();
  const progress = (line) => console.log(`bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s  ${line}`);
  progress(`${opts.node ? 'Node (Dawn)' : 'headless Chromium'}; config ${JSON.stringify(opts.config)}`);
  const load0 = loadavg()[0];
  const result = opts.node ? await runInNode(opts.config, progress) : await runInBrowser(opts.config, progress);
  // how busy the machine was (other processes share the cores: timings are only as good as this)
  result.machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', loadavg1mStart: load0, loadavg1mEnd: loadavg()[0] };
  console.log('\n' + renderTable(result, { color: process.stdout.isTTY }));
  mkdirSync(opts.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const base = resolve(opts.out, opts.name ? `${opts.name}-${stamp}` : `${stamp}${opts.node ? '-node' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 1));
  writeFileSync(`${base}.html`, renderReport(result));
  writeFileSync(`${base}.md`, renderMarkdown(result));
  console.log(`\nbench: ${result.host}, ${result.adapter}, ${(result.wallMs / 1000).toFixed(0)} s in the suite, ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
  console.log(`bench: wrote ${base}.json, .html (the report) and .md (tables and the bars)`);
  if (result.failures.length) {
    console.log(`bench: ${result.failures.length} parity failure(s):\n  ${result.failures.join('\n  ')}`);
    process.exitCode = 1;
  } else console.log('bench: parity OK on every pair of paths');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
  });
}
