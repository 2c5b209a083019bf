// The committed benchmark results, shown in the page: every bench/results/*.json
// (written by `npm run bench`, one file per run, named by its UTC start time) is
// bundled as a chunk of its own and loaded only when the section is opened; the
// newest is shown first as two tables, inference and one training step, medians
// in ms, the fastest path of each row in bold. Nothing links to a file the
// build does not have, and nothing is fetched from elsewhere.
import type { BenchResult, CaseResult, PathName } from '../bench/page';

const results = import.meta.glob<BenchResult>('../bench/results/*.json', { import: 'default' });
/** Paths relative to this module, oldest first (the names sort by time). */
const files = Object.keys(results).sort();

export const benchFiles: readonly string[] = files.map((f) => f.slice(f.lastIndexOf('/') + 1));

export interface BenchShown {
  file: string;
  /** Rows of each table (one per cell and shape). */
  rows: number;
  /** Cells with a time in them, over both tables. */
  timed: number;
}

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** Milliseconds as bench/report.mjs writes them (3 significant digits, whole ms from 100). */
export const benchMs = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

function table(r: BenchResult, kind: 'infer' | 'train'): { html: string; timed: number } {
  const paths: readonly PathName[] = r.config.paths;
  let timed = 0;
  const row = (c: CaseResult) => {
    const times = paths.map((name) => c.paths.find((p) => p.path === name));
    const ms = times.map((p) => (p?.ok ? p[kind]?.medianMs : undefined));
    const best = Math.min(...ms.map((v) => v ?? Infinity)); // one entry per path: a handful
    const cells = paths.map((name, i) => {
      const v = ms[i];
      const p = times[i];
      const why = p && !p.ok ? ` title="${esc(p.note ?? 'did not run')}"` : '';
      const fail = p?.parityFail ? ' class="fail" title="parity above tolerance"' : '';
      if (v === undefined) return `<td data-path="${name}"${why}></td>`;
      timed++;
      const text = benchMs(v);
      return `<td data-path="${name}"${fail}>${v === best ? `<b>${text}</b>` : text}</td>`;
    });
    return `<tr data-case="${esc(`${c.cell} ${c.shape.join(',')}`)}"><th scope="row">${esc(c.cell)}</th><td>(${c.shape.join(', ')})</td>${cells.join('')}</tr>`;
  };
  const head = `<tr><th>cell</th><th>(B, T, I, H)</th>${paths.map((p) => `<th>${esc(p)}</th>`).join('')}</tr>`;
  const body = r.cases.filter((c) => kind === 'infer' || c.paths.some((p) => p.train)).map(row);
  return { html: `<div class="table-scroll"><table class="bench" data-kind="${kind}"><thead>${head}</thead><tbody>${body.join('')}</tbody></table></div>`, timed };
}

/** Renders results file `name` (default: the newest) into `el`. */
export async function renderBench(el: HTMLElement, name?: string): Promise<BenchShown> {
  if (files.length === 0) {
    el.innerHTML = '<p class="note">No benchmark results are committed (bench/results/*.json); run <code>npm run bench</code>.</p>';
    return { file: '', rows: 0, timed: 0 };
  }
  const i = name === undefined ? files.length - 1 : benchFiles.indexOf(name);
  if (i < 0) throw new Error(`bench: no results file '${name}' (have ${benchFiles.join(', ')}).`);
  const r = await results[files[i]]();
  const infer = table(r, 'infer');
  const train = table(r, 'train');
  const host = r.host === 'browser' ? 'headless Chromium' : 'Node (Dawn)';
  const emulated = /swiftshader/i.test(r.adapter)
    ? ' SwiftShader is a CPU emulation of a GPU: its GPU timings measure the emulation, not a real GPU, and the CPU paths are strong peers there.'
    : '';
  const options = benchFiles.map((f, j) => `<option value="${esc(f)}"${j === i ? ' selected' : ''}>${esc(f.replace(/\.json$/, ''))}${j === files.length - 1 ? ' (newest)' : ''}</option>`);
  el.innerHTML = `
    <label class="inline">Run <select data-bench-file>${options.join('')}</select></label>
    <p class="note">Started ${esc(r.started)} in ${host}, adapter <b>${esc(r.adapter)}</b>, TensorFlow.js ${esc(r.tfjsVersion)}; medians of ${r.config.reps} repetitions, in ms; the fastest path of each row in bold; a blank cell: the path did not run (hover it for why).${emulated}
      ${r.failures.length ? `<b class="neg">Parity failures: ${r.failures.map(esc).join('; ')}</b>` : 'Parity: every pair of paths within tolerance.'}</p>
    <h3>Inference (output read back)</h3>${infer.html}
    <h3>Training step (forward, MSE, backward, Adam)</h3>${train.html}
    <details><summary>What the paths are</summary><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></details>`;
  const select = el.querySelector<HTMLSelectElement>('[data-bench-file]')!;
  select.onchange = () => void renderBench(el, select.value);
  return { file: benchFiles[i], rows: r.cases.length, timed: infer.timed + train.timed };
}
