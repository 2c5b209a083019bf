// Prints the README's benchmark table (Markdown) from a results JSON, so the table
// is regenerated from a run, never typed in by hand:
//
//   node bench/readme_table.mjs bench/results/<stamp>.json                 # every row of the run
//   node bench/readme_table.mjs bench/results/<stamp>.json --cells lstm --shapes 1x256x64x128,32x64x64x128
//   node bench/readme_table.mjs bench/results/<stamp>.json --paths ours-step,ours-wasm,tfjs-webgpu --no-train
//
// One row per (cell, shape) and inference / training step, inference rows first; one
// column per path that ran (in the report's order), medians in ms, the fastest of
// each row in bold. A median of fewer samples than the run's --reps (the time budget
// stopped it) says (n=…); a parity failure says so; an ONNX Runtime row whose
// recurrent node ran on another provider names it; '–' where the path has no such
// row (ONNX Runtime trains nothing, tfjs has no PyTorch GRU, the persistent kernel's
// limits), 'parity only' where the run only checked it. Below the table, one line
// says where the numbers come from.
import { readFileSync } from 'node:fs';

const PATH_ORDER = ['ours-step', 'ours-persistent', 'ours-wasm', 'ours-cpu', 'tfjs-webgpu', 'tfjs-webgpu-packed', 'tfjs-wasm', 'tfjs-cpu', 'ort-webgpu', 'ort-wasm'];
const PATH_TITLE = {
  'ours-step': 'ours GPU per-step',
  'ours-persistent': 'ours persistent',
  'ours-wasm': 'ours wasm',
  'ours-cpu': 'ours CPU',
  'tfjs-webgpu': 'tfjs webgpu',
  'tfjs-webgpu-packed': 'tfjs webgpu packed',
  'tfjs-wasm': 'tfjs wasm',
  'tfjs-cpu': 'tfjs cpu',
  'ort-webgpu': 'ort webgpu',
  'ort-wasm': 'ort wasm',
};
const CELL_TITLE = { lstm: 'LSTM', gru: 'GRU, Keras', gru_torch: 'GRU, PyTorch', rnn: 'SimpleRNN' };
const CELL_ORDER = ['lstm', 'gru', 'gru_torch', 'rnn'];

/** The report's number format: 3 significant digits, whole ms from 100. */
export const ms = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const shapeText = (s) => `(${s.join(', ')})`;

/** { cells, shapes, paths, train } from the command line (all optional). */
export function parseTableArgs(argv) {
  const opts = { train: true };
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`readme_table: ${a} needs a value`);
      return v;
    };
    if (a === '--cells') opts.cells = list(val());
    else if (a === '--paths') opts.paths = list(val());
    else if (a === '--shapes') opts.shapes = list(val()).map((s) => s.replace(/×/g, 'x'));
    else if (a === '--no-train') opts.train = false;
    else if (a === '--no-infer') opts.infer = false;
    else if (!a.startsWith('--') && !opts.file) opts.file = a;
    else throw new Error(`readme_table: unknown option '${a}'. Usage: node bench/readme_table.mjs RESULT.json [--cells a,b] [--shapes BxTxIxH,...] [--paths a,b] [--no-train] [--no-infer]`);
  }
  return opts;
}

/** The table's Markdown lines for `result` (bench/page.ts's BenchResult). */
export function readmeTable(result, opts = {}) {
  const cases = result.cases
    .filter((c) => !opts.cells || opts.cells.includes(c.cell))
    .filter((c) => !opts.shapes || opts.shapes.includes(c.shape.join('x')))
    .sort((a, b) => CELL_ORDER.indexOf(a.cell) - CELL_ORDER.indexOf(b.cell) || result.cases.indexOf(a) - result.cases.indexOf(b));
  const paths = PATH_ORDER.filter((p) => (!opts.paths || opts.paths.includes(p)) && cases.some((c) => c.paths.some((q) => q.path === p && q.ok)));
  const parityOnly = result.config.parityOnlyPaths ?? [];
  const lines = [`| (B, T, I, H) | ${paths.map((p) => PATH_TITLE[p]).join(' | ')} |`, `|---|${paths.map(() => '---|').join('')}`];
  const keys = [...(opts.infer === false ? [] : [['infer', 'inference']]), ...(opts.train === false ? [] : [['train', 'training step']])];
  for (const [key, what] of keys) {
    for (const c of cases) {
      const found = paths.map((name) => c.paths.find((q) => q.path === name));
      const times = found.map((p) => (p?.ok && !p.parityFail ? p[key]?.medianMs : undefined));
      if (times.every((t) => t === undefined) && !found.some((p) => p?.ok && parityOnly.includes(p.path))) continue;
      const best = Math.min(...times.filter((t) => t !== undefined));
      const cells = found.map((p, i) => {
        if (!p?.ok) return '–';
        const t = p[key];
        if (!t) return parityOnly.includes(p.path) ? '(parity only)' : '–';
        let text = ms(t.medianMs);
        if (times[i] === best) text = `**${text}**`;
        if (t.budgetStop) text += ` (n=${t.reps})`;
        if (p.parityFail) text += ' (PARITY FAIL)';
        if (p.providerMismatch) text += ` (${c.cell === 'rnn' ? 'RNN' : c.cell.toUpperCase()} on ${(p.recurrentProvider ?? 'an unknown provider').replace('ExecutionProvider', '')})`;
        return text;
      });
      lines.push(`| ${CELL_TITLE[c.cell] ?? c.cell} ${shapeText(c.shape)} ${what} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

/** One line under the table: host, adapter, sampling, load, duration. */
export function provenance(result, file) {
  const cfg = result.config;
  const sampling =
    cfg.minReps === undefined
      ? `medians of ${cfg.reps}`
      : `medians of up to ${cfg.reps} samples, at least ${Math.min(cfg.minReps, cfg.reps)}, ${cfg.budgetMs / 1000} s of samples per measurement at most beyond that ((n=…): fewer than ${cfg.reps})`;
  const load = result.machine ? `; ${result.machine.cpus} cores, 1-min load average ${result.machine.loadavg1mStart.toFixed(1)} → ${result.machine.loadavg1mEnd.toFixed(1)}` : '';
  return `${file ? `[\`${file}\`](${file}): ` : ''}${result.host === 'node' ? 'Node (Dawn)' : 'headless Chromium'}, ${result.adapter}; ${sampling}; ms${load}; ${(result.wallMs / 60000).toFixed(0)} min in all.`;
}

if (process.argv[1] && process.argv[1].endsWith('readme_table.mjs')) {
  try {
    const opts = parseTableArgs(process.argv.slice(2));
    if (!opts.file) throw new Error('readme_table: no results file. Usage: node bench/readme_table.mjs bench/results/<stamp>.json [--cells a,b] [--shapes BxTxIxH,...] [--paths a,b] [--no-train] [--no-infer]');
    const result = JSON.parse(readFileSync(opts.file, 'utf8'));
    console.log([...readmeTable(result, opts), '', provenance(result, opts.file)].join('\n'));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
