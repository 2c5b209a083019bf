// Renders a benchmark result (bench/page.ts's BenchResult, as JSON) three ways:
//   renderTable(result)   the console table printed by bench/run.mjs;
//   renderMarkdown(result) the medians as two Markdown tables (inference, training
//                         step) and the issue's bars checked row by row, for the
//                         README (bench/results/<stamp>.md, committed);
//   renderReport(result)  a self-contained HTML page: the same table (parity cells red
//                         above tolerance), bars of each path's time as a ratio to our
//                         fastest GPU path, and lines of per-step time against sequence
//                         length; inline SVG, no chart library, no external requests.
//
//   node bench/report.mjs bench/results/<stamp>.json    # re-renders <stamp>.html and <stamp>.md

const COLORS = {
  'ours-step': '#1f77b4',
  'ours-persistent': '#17becf',
  'ours-cpu': '#7f7f7f',
  'tfjs-webgpu': '#d62728',
  'tfjs-webgpu-packed': '#ff7f0e',
  'tfjs-cpu': '#8c564b',
  'tfjs-wasm': '#9467bd',
  'ours-wasm': '#2ca02c',
  'ort-webgpu': '#e377c2',
  'ort-wasm': '#bcbd22',
};

/** "EP" column: the provider ONNX Runtime ran the recurrent node on (shortened), '!' when it is not the path's. */
const epText = (p) => (p.recurrentProvider === undefined ? '' : `${(p.recurrentProvider ?? 'unknown').replace('ExecutionProvider', '')}${p.providerMismatch ? ' (fallback)' : ''}`);
/** "% roofline" column: inference / training share of the CPU roofline. */
const roofText = (p) => {
  const r = p.roofline;
  if (!r) return '';
  const f = (x) => (x && Number.isFinite(x.pctRoofline) ? `${x.pctRoofline.toFixed(x.pctRoofline >= 10 ? 0 : 1)}%` : '–');
  return `${f(r.infer)} / ${f(r.train)}`;
};

const shapeText = (s) => `(${s.join(', ')})`;
const ms = (v) => (v === undefined ? '' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const exp = (v) => (v === undefined || v === null ? '' : v === 0 ? '0' : Number(v).toExponential(1));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** "n" column: the samples of a median, '*' when the time budget stopped sampling before --reps. */
const nText = (t) => (t ? `${t.reps}${t.budgetStop ? '*' : ''}` : '');

/**
 * How the medians were taken, one sentence: repetitions (at most, at least, the time
 * budget), warm-up runs, and which cells have fewer samples. Results written before
 * the budget existed (no config.minReps) had a fixed number of repetitions.
 */
export function samplingText(result) {
  const c = result.config;
  if (c.minReps === undefined) return `medians of ${c.reps} repetitions after ${c.warmup} warm-up run(s) (and the parity run)`;
  const timings = result.cases.flatMap((k) => k.paths.flatMap((p) => [p.infer, p.train].filter(Boolean)));
  const fewer = timings.filter((t) => t.budgetStop).length;
  const noWarm = timings.filter((t) => t.warmupRuns === 0).length;
  return (
    `medians of up to ${c.reps} repetitions, at least ${Math.min(c.minReps, c.reps)}: a measurement (one path's inference or training step on one row) takes no more samples ` +
    `once its samples took ${c.budgetMs / 1000} s (${fewer} of ${timings.length} stopped there, marked (n=…) with their number of samples); ` +
    `after the parity run and ${c.warmup} warm-up run(s), none for a call whose parity run took ≥ ${c.longCallMs / 1000} s (${noWarm} such)` +
    `${c.train ? '; a training step after one Adam update with zero gradients (compiles Adam, leaves the weights as they are)' : ''}`
  );
}

/** Rows of cells (strings) with a flag per cell saying "parity failure". */
export function tableRows(result) {
  const cfg = result.config;
  const head = ['cell', 'shape (B,T,I,H)', 'path', 'infer ms', '±', 'n', 'GPU ms', 'ms/step', '×floor', 'train ms', '±', 'n', 'GPU ms', 'disp/step', 'disp/call', 'train disp', 'GPU KiB', '|Δ| vs cpu', 'worst |Δ|', 'grad rel', 'EP', '% roofline', 'note'];
  const rows = [];
  for (const c of result.cases) {
    for (const p of c.paths) {
      const bad = (v, tol) => v !== undefined && v !== null && !(v <= tol);
      const cells = [
        [c.cell],
        [shapeText(c.shape)],
        [p.path],
        [ms(p.infer?.medianMs)],
        [p.infer ? `${(p.infer.spread * 100).toFixed(0)}%` : ''],
        [nText(p.infer)],
        [ms(p.infer?.gpuMs)],
        [ms(p.perStepMs)],
        [p.perStepMs !== undefined && c.floor ? (p.perStepMs / c.floor.matvecMs).toFixed(1) : ''],
        [ms(p.train?.medianMs)],
        [p.train ? `${(p.train.spread * 100).toFixed(0)}%` : ''],
        [nText(p.train)],
        [ms(p.train?.gpuMs)],
        [p.dispatchesPerStep === undefined ? '' : p.dispatchesPerStep < 1 ? p.dispatchesPerStep.toFixed(3) : p.dispatchesPerStep.toFixed(1)],
        [p.dispatchesPerCall === undefined ? '' : String(p.dispatchesPerCall)],
        [p.trainDispatchesPerCall === undefined ? '' : String(p.trainDispatchesPerCall)],
        [p.gpuBytes === undefined ? '' : (p.gpuBytes / 1024).toFixed(0)],
        [exp(p.maxAbsVsRef), bad(p.maxAbsVsRef, cfg.tolOutput)],
        [exp(p.maxAbsWorstPair), bad(p.maxAbsWorstPair, cfg.tolOutput)],
        [exp(p.gradRelWorstPair), bad(p.gradRelWorstPair, cfg.tolGradRel)],
        [epText(p), !!p.providerMismatch],
        [roofText(p)],
        [p.ok ? (p.parityFail ? 'PARITY FAIL' : '') + (p.note ? ` ${p.note}`.slice(0, 90) : '') : `skipped: ${p.note ?? ''}`.slice(0, 110), !!p.parityFail],
      ];
      rows.push(cells.map(([text, fail]) => ({ text, fail: !!fail })));
    }
  }
  return { head, rows };
}

const tokensPerSec = (g) => (g.tokensPerSec >= 100 ? g.tokensPerSec.toFixed(0) : g.tokensPerSec.toFixed(1));

/** What the generation rows measure (their model and call), one line. */
function generationTitle(result) {
  const g = result.generation[0];
  return (
    `greedy model.generate(prompts, { maxNewTokens: ${g.newTokens} }), Embedding (64, 64) → LSTM (64 → 128) → Dense (128 → 64), ` +
    `${g.promptLen}-token prompts; tokens/s = B · ${g.newTokens} / the median call (prompt pass included)`
  );
}

const med = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : NaN;
};

/** The CPU roofline, one line. */
function cpuRooflineLine(result) {
  const r = result.cpuRoofline;
  return (
    `CPU roofline (this engine, one thread): ${r.peakGflops.toFixed(1)} GFLOP/s wasm SIMD mul+add, ${r.bandwidthGBs.toFixed(1)} GB/s streaming read from memory (64 MiB)` +
    `${r.cacheBandwidthGBs ? `, ${r.cacheBandwidthGBs.toFixed(1)} GB/s from cache (512 KiB)` : ''}, the best of ${r.gflopsRuns.length} runs each ` +
    `(GFLOP/s median ${med(r.gflopsRuns).toFixed(1)}); "% roofline" = achieved GFLOP/s / min(peak, FLOPs/bytes · bandwidth), the cache bandwidth where W_hh fits in 512 KiB`
  );
}

/** ONNX Runtime rows: cell, shape, path and the provider of every node, flagged when the recurrent node is not on the path's. */
function providerLines(result) {
  const lines = [];
  for (const c of result.cases) {
    for (const p of c.paths) {
      if (!p.providers) continue;
      const byEp = {};
      for (const [node, ep] of Object.entries(p.providers)) (byEp[ep] ??= []).push(node);
      const text = Object.entries(byEp).map(([ep, nodes]) => `${ep}: ${nodes.join(', ')}`).join('; ');
      lines.push(`${c.cell} ${shapeText(c.shape)} ${p.path}: ${text}${p.providerMismatch ? `  <- FALLBACK: the recurrent node is not on ${p.path}'s provider` : ''}`);
    }
  }
  return lines;
}

export function renderTable(result, { color = false } = {}) {
  const { head, rows } = tableRows(result);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].text.length)));
  const line = (cells) =>
    cells
      .map((c, i) => {
        const t = c.text.padEnd(widths[i]);
        return color && c.fail ? `\x1b[31m${t}\x1b[0m` : c.fail ? t.replace(/ *$/, (s) => '!' + s.slice(1)) : t;
      })
      .join(' │ ')
      .trimEnd();
  const out = [line(head.map((text) => ({ text }))), widths.map((w) => '─'.repeat(w)).join('─┼─')];
  let prev = '';
  for (const r of rows) {
    const key = r[0].text + r[1].text;
    if (prev && key !== prev) out.push('');
    prev = key;
    out.push(line(r));
  }
  const floors = result.cases.filter((c) => c.floor);
  if (floors.length) {
    out.push('', 'roofline on our adapter (per dispatch, back-to-back in one pass): empty dispatch; one recurrent-step matvec (B,H)·(H,G)');
    for (const c of floors) out.push(`  ${c.cell.padEnd(9)} ${shapeText(c.shape).padEnd(20)} empty ${ms(c.floor.emptyDispatchMs)} ms   matvec ${ms(c.floor.matvecMs)} ms`);
  }
  if (result.cpuRoofline) out.push('', cpuRooflineLine(result));
  const prov = providerLines(result);
  if (prov.length) out.push('', 'ONNX Runtime: where each node ran (from its verbose log)', ...prov.map((l) => `  ${l}`));
  if (result.oursWasm) out.push('', `ours-wasm: ${result.oursWasm}`);
  const gen = result.generation ?? [];
  if (gen.length) {
    out.push('', `generation: ${generationTitle(result)}`);
    for (const g of gen) out.push(`  B=${String(g.batch).padEnd(3)} ${g.path.padEnd(9)} ${tokensPerSec(g).padStart(8)} tokens/s   ${ms(g.msPerStep)} ms per step   (call ${ms(g.timing.medianMs)} ms ± ${(g.timing.spread * 100).toFixed(0)}%)`);
  }
  if ((result.notes ?? []).length) out.push('', ...result.notes.map((n) => `- ${n}`));
  out.push(
    '',
    `${result.host}; adapter: ${result.adapter}; tfjs ${result.tfjsVersion}${result.ortVersion ? `; onnxruntime-web ${result.ortVersion}` : ''}` +
      `${result.crossOriginIsolated !== undefined ? `; cross-origin isolated: ${result.crossOriginIsolated ? 'yes' : 'no (one wasm thread)'}` : ''}` +
      `${result.machine ? `; ${result.machine.cpus} CPUs, load average ${result.machine.loadavg1mStart.toFixed(1)} → ${result.machine.loadavg1mEnd.toFixed(1)}` : ''}; ${samplingText(result)}; ` +
      `tolerances: output |Δ| ≤ ${result.config.tolOutput}, gradient rel ≤ ${result.config.tolGradRel}` +
      (color ? '' : '; ! marks a value over its tolerance'),
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// charts

/** Horizontal bars: per case, log2(time / our fastest GPU time) for each path, 0 = as fast. */
function ratioBars(result, key, title) {
  const groups = [];
  for (const c of result.cases) {
    const ours = c.paths.filter((p) => p.ok && p[key] && (p.path === 'ours-step' || p.path === 'ours-persistent')).map((p) => p[key].medianMs);
    if (!ours.length) continue;
    const base = Math.min(...ours);
    const bars = c.paths.filter((p) => p.ok && p[key]).map((p) => ({ path: p.path, ratio: p[key].medianMs / base, fail: p.parityFail }));
    if (bars.length) groups.push({ label: `${c.cell} ${shapeText(c.shape)}`, bars });
  }
  if (!groups.length) return '';
  const maxLog = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => Math.abs(Math.log2(b.ratio)))));
  const barH = 12;
  const labelW = 330;
  const plotW = 520;
  const mid = labelW + plotW / 2;
  const scale = plotW / 2 / maxLog;
  let y = 30;
  const parts = [];
  for (const g of groups) {
    parts.push(`<text x="4" y="${y + 10}" font-weight="bold">${esc(g.label)}</text>`);
    y += 14;
    for (const b of g.bars) {
      const l = Math.log2(b.ratio) * scale;
      const x = l < 0 ? mid + l : mid;
      parts.push(
        `<text x="${labelW - 6}" y="${y + 10}" text-anchor="end">${esc(b.path)}</text>`,
        `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, Math.abs(l)).toFixed(1)}" height="${barH - 2}" fill="${COLORS[b.path] ?? '#333'}"${b.fail ? ' stroke="red" stroke-width="2"' : ''}><title>${esc(b.path)}: ${b.ratio.toFixed(2)}×</title></rect>`,
        `<text x="${(l < 0 ? x - 4 : mid + Math.abs(l) + 4).toFixed(1)}" y="${y + 10}" text-anchor="${l < 0 ? 'end' : 'start'}">${b.ratio.toFixed(2)}×${b.fail ? ' (parity FAIL)' : ''}</text>`,
      );
      y += barH;
    }
    y += 6;
  }
  const axis = [];
  for (let k = -Math.floor(maxLog); k <= Math.floor(maxLog); k++) {
    const x = mid + k * scale;
    axis.push(`<line x1="${x}" y1="24" x2="${x}" y2="${y}" stroke="${k === 0 ? '#000' : '#ddd'}"/>`, `<text x="${x}" y="20" text-anchor="middle">${k >= 0 ? 2 ** k : '1/' + 2 ** -k}×</text>`);
  }
  const w = labelW + plotW + 120;
  return `<h2>${esc(title)}</h2>
<p>Time of each path divided by our fastest GPU path's (ours-step or ours-persistent) on the same case; log scale, right of the black line is slower than ours.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${y + 10}" font-family="sans-serif" font-size="11">${axis.join('')}${parts.join('')}</svg>`;
}

/** Lines: per-step inference time (ms / T) against T, one line per path, one chart per cell. */
function perStepLines(result) {
  const out = [];
  const cells = [...new Set(result.cases.map((c) => c.cell))];
  for (const cell of cells) {
    const cases = result.cases.filter((c) => c.cell === cell);
    const series = new Map();
    for (const c of cases) {
      for (const p of c.paths) {
        if (!p.ok || p.perStepMs === undefined) continue;
        if (!series.has(p.path)) series.set(p.path, []);
        series.get(p.path).push({ T: c.shape[1], v: p.perStepMs, label: shapeText(c.shape) });
      }
      if (c.floor) {
        if (!series.has('matvec floor')) series.set('matvec floor', []);
        series.get('matvec floor').push({ T: c.shape[1], v: c.floor.matvecMs, label: shapeText(c.shape) });
      }
    }
    const pts = [...series.values()].flat();
    if (pts.length < 2) continue;
    const W = 640;
    const H = 320;
    const L = 60;
    const R = 150;
    const Tp = 20;
    const Bm = 40;
    const lx = (t) => Math.log10(t);
    const xs = pts.map((p) => lx(p.T));
    const ys = pts.map((p) => Math.log10(p.v));
    const [x0, x1] = [Math.min(...xs), Math.max(...xs) + 1e-9];
    const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys) + 1e-9)];
    const X = (t) => L + ((lx(t) - x0) / (x1 - x0 || 1)) * (W - L - R);
    const Y = (v) => Tp + (1 - (Math.log10(v) - y0) / (y1 - y0 || 1)) * (H - Tp - Bm);
    const parts = [];
    for (let e = y0; e <= y1; e++) parts.push(`<line x1="${L}" x2="${W - R}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#ddd"/><text x="${L - 4}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)} ms</text>`);
    for (const T of [...new Set(pts.map((p) => p.T))]) parts.push(`<text x="${X(T)}" y="${H - Bm + 16}" text-anchor="middle">T=${T}</text>`);
    let legendY = Tp;
    for (const [name, list] of series) {
      list.sort((a, b) => a.T - b.T);
      const col = COLORS[name] ?? '#000';
      const dash = name === 'matvec floor' ? ' stroke-dasharray="4 3"' : '';
      parts.push(`<polyline fill="none" stroke="${col}" stroke-width="2"${dash} points="${list.map((p) => `${X(p.T).toFixed(1)},${Y(p.v).toFixed(1)}`).join(' ')}"/>`);
      for (const p of list) parts.push(`<circle cx="${X(p.T).toFixed(1)}" cy="${Y(p.v).toFixed(1)}" r="3" fill="${col}"><title>${esc(name)} ${esc(p.label)}: ${ms(p.v)} ms/step</title></circle>`);
      parts.push(`<rect x="${W - R + 10}" y="${legendY}" width="12" height="3" fill="${col}"/><text x="${W - R + 26}" y="${legendY + 5}">${esc(name)}</text>`);
      legendY += 14;
    }
    out.push(`<h3>${esc(cell)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`);
  }
  if (!out.length) return '';
  return `<h2>Per-step inference time against sequence length</h2>
<p>ms per time step (inference time / T), log–log; shapes differ in B and sizes too (hover a point for its shape). Dashed: one recurrent-step matvec on the same adapter, the floor of a per-step kernel.</p>${out.join('\n')}`;
}

function generationTable(result) {
  const gen = result.generation ?? [];
  if (!gen.length) return '';
  return `<h2>Generation</h2><p>${esc(generationTitle(result))}.</p>
<table><thead><tr><th>B</th><th>path</th><th>tokens/s</th><th>ms per step</th><th>call ms</th><th>±</th></tr></thead><tbody>${gen
    .map((g) => `<tr><td>${g.batch}</td><td>${esc(g.path)}</td><td>${tokensPerSec(g)}</td><td>${ms(g.msPerStep)}</td><td>${ms(g.timing.medianMs)}</td><td>${(g.timing.spread * 100).toFixed(0)}%</td></tr>`)
    .join('')}</tbody></table>`;
}

export function renderReport(result) {
  const { head, rows } = tableRows(result);
  const table = `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td${c.fail ? ' class="fail"' : ''}>${esc(c.text)}</td>`).join('')}</tr>`)
    .join('\n')}</tbody></table>`;
  const floors = result.cases.filter((c) => c.floor);
  const floorTable = floors.length
    ? `<h2>Roofline</h2><p>Per dispatch, back-to-back in one compute pass on our adapter: an empty dispatch, and one recurrent-step matvec y (B, G) = h (B, H) · W_hhᵀ (one thread per output). "×floor" in the table is ms/step divided by this matvec.</p>
<table><thead><tr><th>cell</th><th>shape</th><th>empty dispatch ms</th><th>matvec ms</th></tr></thead><tbody>${floors
        .map((c) => `<tr><td>${esc(c.cell)}</td><td>${esc(shapeText(c.shape))}</td><td>${ms(c.floor.emptyDispatchMs)}</td><td>${ms(c.floor.matvecMs)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const fails = result.failures.length
    ? `<p class="fail">${result.failures.length} parity failure(s):</p><ul>${result.failures.map((f) => `<li class="fail">${esc(f)}</li>`).join('')}</ul>`
    : '<p>Parity: every pair of paths within tolerance.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webgpu-rnn benchmark ${esc(result.started)}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
td:nth-child(-n+3), th { text-align: left; }
.fail { color: #c00; font-weight: bold; background: #fee; }
</style></head><body>
<h1>webgpu-rnn benchmark</h1>
<p>${esc(result.host)}; adapter <b>${esc(result.adapter)}</b>; TensorFlow.js ${esc(result.tfjsVersion)}; started ${esc(result.started)}; ${(result.wallMs / 1000).toFixed(0)} s.
${esc(samplingText(result).replace(/^m/, 'M'))}; GPU work finished inside the timed region; ± is (max − min) / median; n the samples of a median (* where the time budget stopped sampling).
Parity: output |Δ| ≤ ${result.config.tolOutput}, gradients (from one SGD step, lr 1) relative ≤ ${result.config.tolGradRel}; red above.</p>
${fails}
${(result.notes ?? []).length ? `<ul>${result.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
${table}
${result.cpuRoofline ? `<h2>CPU roofline</h2><p>${esc(cpuRooflineLine(result))}</p>` : ''}
${providerLines(result).length ? `<h2>ONNX Runtime: where each node ran</h2><ul>${providerLines(result).map((l) => `<li${l.includes('FALLBACK') ? ' class="fail"' : ''}>${esc(l)}</li>`).join('')}</ul>` : ''}
${floorTable}
${generationTable(result)}
${ratioBars(result, 'infer', 'Inference: time relative to ours')}
${ratioBars(result, 'train', 'Training step: time relative to ours')}
${perStepLines(result)}
<h2>Configuration</h2><pre>${esc(JSON.stringify(result.config, null, 1))}</pre>
</body></html>
`;
}

const PATH_ORDER = ['ours-step', 'ours-persistent', 'ours-cpu', 'ours-wasm', 'tfjs-webgpu', 'tfjs-webgpu-packed', 'tfjs-cpu', 'tfjs-wasm', 'ort-webgpu', 'ort-wasm'];
const OURS_GPU = ['ours-step', 'ours-persistent'];
const TFJS_WEBGPU = ['tfjs-webgpu', 'tfjs-webgpu-packed'];

/** The fastest of `paths` on `key` ('infer' | 'train') in one case: { path, ms } or null. */
function fastest(c, paths, key) {
  let best = null;
  for (const p of c.paths) {
    const t = p.ok && !p.parityFail ? p[key]?.medianMs : undefined;
    if (paths.includes(p.path) && t !== undefined && (!best || t < best.ms)) best = { path: p.path, ms: t };
  }
  return best;
}

/**
 * The medians as Markdown, and the bars of issue 4 checked on every row that has
 * the paths they compare: our fastest GPU path against the faster of tfjs-webgpu
 * as shipped and packed (≥ 20× on the (1, 256, 64, 128) LSTM inference, ≥ 5× on the
 * (32, 64, 64, 128) LSTM training step, ahead everywhere else), our per-step time on
 * (1, 256, 64, 128) within 2× of the matvec floor, our CPU path ahead of tfjs-cpu.
 */
export function renderMarkdown(result) {
  // every path that was asked for, also one that never ran (ours-wasm without its backend: 'n/a')
  const paths = PATH_ORDER.filter((p) => result.cases.some((c) => c.paths.some((q) => q.path === p)));
  const out = [
    `Benchmark run of ${result.started} on ${result.host === 'node' ? 'Node (Dawn)' : 'headless Chromium'}, adapter ${result.adapter}, tfjs ${result.tfjsVersion}; ` +
      `${samplingText(result)}, in ms` +
      `${result.machine ? ` (${result.machine.cpus} CPUs, 1-min load average ${result.machine.loadavg1mStart.toFixed(1)} at the start, ${result.machine.loadavg1mEnd.toFixed(1)} at the end)` : ''}. ` +
      `A blank cell: the path did not run (see the note in the JSON; ONNX Runtime has no training step); n/a: the path is not available in this build. Parity: ${result.failures.length ? `${result.failures.length} FAILURE(S)` : 'every pair of paths within tolerance'}.`,
    '',
  ];
  for (const [key, title] of [
    ['infer', 'Inference (output read back)'],
    ['train', 'Training step (forward, MSE, backward, Adam)'],
  ]) {
    out.push(`**${title}**`, '', `| cell | (B, T, I, H) | ${paths.join(' | ')} |`, `|---|---|${paths.map(() => '---|').join('')}`);
    for (const c of result.cases) {
      const cells = paths.map((name) => {
        const p = c.paths.find((q) => q.path === name);
        const t = p?.ok ? p[key]?.medianMs : undefined;
        if (p && !p.ok && /^not available/.test(p.note ?? '')) return 'n/a';
        if (p?.ok && t === undefined && (result.config.parityOnlyPaths ?? []).includes(name)) return 'parity only';
        return t === undefined
          ? ''
          : `${ms(t)}${p[key].budgetStop ? ` (n=${p[key].reps})` : ''}${p.parityFail ? ' (PARITY FAIL)' : ''}${p.providerMismatch ? ` (${p.recurrentProvider ?? 'unknown provider'})` : ''}`;
      });
      out.push(`| ${c.cell} | ${shapeText(c.shape)} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const gpuPaths = paths.filter((name) => result.cases.some((c) => c.paths.some((p) => p.path === name && (p.infer?.gpuMs !== undefined || p.train?.gpuMs !== undefined))));
  if (gpuPaths.length) {
    out.push(
      '**GPU-only time** (timestamp queries: ours, the median of the summed pass times; tfjs-webgpu, `tf.time()` kernelMs of one extra run after the samples' +
        (result.config.tfjsGpuTimeMaxMs !== undefined ? `, taken where the call is under ${result.config.tfjsGpuTimeMaxMs / 1000} s, "not taken" elsewhere` : '') +
        '), inference / training step, ms',
      '',
      `| cell | (B, T, I, H) | ${gpuPaths.join(' | ')} |`,
      `|---|---|${gpuPaths.map(() => '---|').join('')}`,
    );
    for (const c of result.cases) {
      const cells = gpuPaths.map((name) => {
        const p = c.paths.find((q) => q.path === name);
        const g = (t) => (t?.gpuMsSkipped ? 'not taken' : ms(t?.gpuMs));
        return p?.ok && (p.infer?.gpuMs !== undefined || p.train?.gpuMs !== undefined || p.infer?.gpuMsSkipped || p.train?.gpuMsSkipped) ? `${g(p.infer)} / ${g(p.train)}` : '';
      });
      out.push(`| ${c.cell} | ${shapeText(c.shape)} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  const cpuRows = result.cpuRoofline ? result.cases.flatMap((c) => c.paths.filter((p) => p.roofline && (p.roofline.infer || p.roofline.train)).map((p) => ({ c, p }))) : [];
  if (cpuRows.length) {
    out.push(
      `**CPU rows against the CPU roofline** (${cpuRooflineLine(result)}): achieved GFLOP/s and % of the roofline, inference / training step`,
      '',
      '| cell | (B, T, I, H) | path | GFLOP/s | % roofline | % of peak | % of bandwidth | bandwidth |',
      '|---|---|---|---|---|---|---|---|',
    );
    const two = (r, f) => `${r.infer && Number.isFinite(r.infer.pctRoofline) ? f(r.infer) : '–'} / ${r.train && Number.isFinite(r.train.pctRoofline) ? f(r.train) : '–'}`;
    for (const { c, p } of cpuRows) {
      const r = p.roofline;
      out.push(
        `| ${c.cell} | ${shapeText(c.shape)} | ${p.path} | ${two(r, (x) => x.gflops.toFixed(2))} | ${two(r, (x) => x.pctRoofline.toFixed(1))} | ${two(r, (x) => x.pctPeak.toFixed(1))} | ${two(r, (x) => x.pctBandwidth.toFixed(1))} | ${(r.infer ?? r.train)?.level ?? ''} |`,
      );
    }
    out.push('');
  }
  const prov = providerLines(result);
  if (prov.length) out.push("**ONNX Runtime: where each node ran** (its verbose log's node placements)", '', ...prov.map((l) => `- ${l}`), '');
  if (result.oursWasm) out.push(`**ours-wasm**: ${result.oursWasm}`, '');
  const gen = result.generation ?? [];
  if (gen.length) {
    out.push(`**Generation** (${generationTitle(result)})`, '', '| B | path | tokens/s | ms per step |', '|---|---|---|---|');
    for (const g of gen) out.push(`| ${g.batch} | ${g.path} | ${tokensPerSec(g)} | ${ms(g.msPerStep)} |`);
    out.push('');
  }
  const checks = [];
  for (const c of result.cases) {
    const shape = c.shape.join(',');
    for (const key of ['infer', 'train']) {
      const ours = fastest(c, OURS_GPU, key);
      const tf = fastest(c, TFJS_WEBGPU, key);
      if (ours && tf) {
        const need = c.cell === 'lstm' && key === 'infer' && shape === '1,256,64,128' ? 20 : c.cell === 'lstm' && key === 'train' && shape === '32,64,64,128' ? 5 : 1;
        const x = tf.ms / ours.ms;
        checks.push({ what: `${c.cell} ${shapeText(c.shape)} ${key}: our GPU (${ours.path}) vs tfjs-webgpu (${tf.path})`, x, need });
      }
      // issue 12: our wasm backend ahead of every CPU peer, our GPU ahead of ort-webgpu
      const ow = fastest(c, ['ours-wasm'], key);
      for (const peer of ['ort-wasm', 'tfjs-wasm', 'tfjs-cpu']) {
        const t = fastest(c, [peer], key);
        if (ow && t) checks.push({ what: `${c.cell} ${shapeText(c.shape)} ${key}: ours-wasm vs ${peer}`, x: t.ms / ow.ms, need: 1 });
      }
      const og = fastest(c, ['ort-webgpu'], key);
      if (ours && og) {
        const p = c.paths.find((q) => q.path === 'ort-webgpu');
        checks.push({ what: `${c.cell} ${shapeText(c.shape)} ${key}: our GPU (${ours.path}) vs ort-webgpu${p?.providerMismatch ? ` (its ${c.cell} node on ${p.recurrentProvider ?? 'an unknown provider'})` : ''}`, x: og.ms / ours.ms, need: 1 });
      }
      const oc = fastest(c, ['ours-cpu'], key);
      const tc = fastest(c, ['tfjs-cpu'], key);
      if (oc && tc) checks.push({ what: `${c.cell} ${shapeText(c.shape)} ${key}: our CPU vs tfjs-cpu`, x: tc.ms / oc.ms, need: 1 });
    }
    if (c.cell === 'lstm' && shape === '1,256,64,128' && c.floor) {
      const step = c.paths.find((p) => p.path === 'ours-step' && p.ok);
      if (step?.perStepMs !== undefined) {
        const m = step.perStepMs / c.floor.matvecMs;
        checks.push({ what: `lstm (1, 256, 64, 128) per-step time ${ms(step.perStepMs)} ms vs one-step matvec floor ${ms(c.floor.matvecMs)} ms (multiple of the floor, bar ≤ 2)`, x: 2 / m, need: 1, text: `${m.toFixed(2)}× the floor` });
      }
    }
  }
  if (checks.length) {
    const failed = checks.filter((k) => !(k.x > k.need));
    out.push(`**The bars** (${checks.length - failed.length} of ${checks.length} met)`, '', '| row | measured | bar | met |', '|---|---|---|---|');
    for (const k of checks) out.push(`| ${k.what} | ${k.text ?? `${k.x.toFixed(1)}× faster`} | ${k.text ? '≤ 2× the floor' : k.need > 1 ? `≥ ${k.need}×` : 'ahead'} | ${k.x > k.need ? 'yes' : '**no**'} |`);
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && process.argv[1].endsWith('report.mjs') && process.argv[2]) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const file = process.argv[2];
  const result = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file.replace(/\.json$/, '.html'), renderReport(result));
  writeFileSync(file.replace(/\.json$/, '.md'), renderMarkdown(result));
  console.log(renderTable(result));
}
