// The benchmark's parity part (bench/page.ts, as `npm run bench -- --quick --node
// --parity-only` runs it), so a benchmark that silently breaks (a path that stops
// running, a tfjs model that no longer matches ours, a wrong answer) fails CI.
// No timings are taken or asserted.
//
// Every cell × every path on --quick's shapes, in Node through Dawn (SwiftShader
// here): our per-step, persistent and CPU paths, and TensorFlow.js 4.22 on its
// webgpu (as shipped and with the packed matmul), cpu and wasm backends; ONNX
// Runtime Web's webgpu and wasm providers (inference only) on the model
// bench/onnx.ts builds from the same weights; our wasm SIMD backend. Outputs and
// gradients (one SGD step, lr 1) of every pair of paths must agree within the
// benchmark's own tolerances (DEFAULT_CONFIG: output |Δ| ≤ 1e-4, gradients 1e-3
// relative; they are asserted here as the report colours them).
import { describe, expect, it } from 'vitest';
import { ALL_CELLS, ALL_PATHS, DEFAULT_CONFIG, MIN_SAMPLE_MS, QUICK_SHAPES, runBench, timeCalls, timedCalls, type BenchResult, type TimePlan } from '../bench/page';
// @ts-expect-error: a plain ES module without declarations
import { renderMarkdown, renderTable } from '../bench/report.mjs';

// The time budget (bench/page.ts timeCalls) on a fake clock: each call advances it by
// a fixed number of ms, so the samples taken are exact and nothing here is timed.
describe('benchmark sampling: the time budget and the rep count it reports', () => {
  const plan: TimePlan = { reps: 5, minReps: 2, budgetMs: 20_000, warmup: 1, longCallMs: 2_000 };
  const fake = (callMs: number) => {
    let t = 0;
    let calls = 0;
    return {
      clock: () => t,
      fn: async () => {
        calls++;
        t += callMs;
      },
      calls: () => calls,
    };
  };

  it('takes every rep of a short call, several calls per sample', async () => {
    const f = fake(3); // 3 ms: 7 calls make a sample of ≥ 20 ms
    const t = await timeCalls(plan, f.fn, { clock: f.clock, warmMs: 50 });
    expect(t).toMatchObject({ reps: 5, callsPerSample: Math.ceil(MIN_SAMPLE_MS / 3), budgetStop: false, warmupRuns: 1, medianMs: 3 });
    // 1 warm-up, 1 calibration (no sample: shorter than MIN_SAMPLE_MS), 5 samples of 7 calls
    expect(f.calls()).toBe(1 + 1 + 5 * 7);
    expect(timedCalls(t)).toBe(1 + 5 * 7);
  });

  it('stops at the budget with fewer reps, and says so', async () => {
    const f = fake(7_000); // samples at 7, 14, 21 s: the third passes the 20 s budget
    const t = await timeCalls(plan, f.fn, { clock: f.clock, warmMs: 7_500 });
    expect(t).toMatchObject({ reps: 3, callsPerSample: 1, budgetStop: true, warmupRuns: 0, medianMs: 7_000, sampledMs: 21_000 });
    // no warm-up (the parity run took ≥ longCallMs); the calibration call is the first sample
    expect(f.calls()).toBe(3);
  });

  it('never takes fewer than minReps, however long a call', async () => {
    const f = fake(50_000);
    const t = await timeCalls(plan, f.fn, { clock: f.clock, warmMs: 60_000 });
    expect(t).toMatchObject({ reps: 2, budgetStop: true, warmupRuns: 0 });
    expect(f.calls()).toBe(2);
    const g = fake(50_000);
    const all = await timeCalls({ ...plan, minReps: 9 }, g.fn, { clock: g.clock, warmMs: 60_000 });
    expect(all).toMatchObject({ reps: 5, budgetStop: false }); // minReps above reps means reps
  });

  it('warms up a call whose parity run was short, even if the call itself is long', async () => {
    const f = fake(7_000);
    const t = await timeCalls(plan, f.fn, { clock: f.clock, warmMs: 1_000 });
    expect(t).toMatchObject({ reps: 3, warmupRuns: 1, budgetStop: true });
    expect(f.calls()).toBe(1 + 3);
  });

  it('a timed run in Node puts each median\'s rep count in the JSON, the console table and the Markdown', async () => {
    // tiny shape, CPU paths only; a 0 s budget: every measurement takes minReps = 2 samples of reps = 4
    const r = await runBench({ cells: ['lstm'], shapes: [[1, 2, 3, 4]], paths: ['ours-cpu', 'tfjs-cpu'], reps: 4, minReps: 2, budgetMs: 0, roofline: false, generateTokens: 0 });
    expect(r.failures).toEqual([]);
    // the gradients still agree: ours from its SGD step, tfjs's from its first (untimed) Adam step
    expect(Object.keys(r.cases[0].gradPairs)).toEqual(['ours-cpu|tfjs-cpu']);
    expect(r.cases[0].gradPairs['ours-cpu|tfjs-cpu']).toBeLessThanOrEqual(DEFAULT_CONFIG.tolGradRel);
    for (const p of r.cases[0].paths) {
      for (const t of [p.infer!, p.train!]) expect(t, p.path).toMatchObject({ reps: 2, budgetStop: true });
      expect(p.wallMs, p.path).toBeGreaterThan(0);
    }
    const md = renderMarkdown(r) as string;
    expect(md).toContain('medians of up to 4 repetitions, at least 2');
    expect(md).toContain('(4 of 4 stopped there');
    expect(md.match(/\(n=2\)/g)?.length).toBe(4); // 2 paths × inference and training step
    const table = renderTable(r) as string;
    expect(table).toMatch(/│ n +│/);
    expect(table).toContain('2*');
  });

  it("takes tfjs-webgpu's GPU-only time only where the call is under tfjsGpuTimeMaxMs", async () => {
    const run = (tfjsGpuTimeMaxMs: number) =>
      runBench({ cells: ['rnn'], shapes: [[1, 2, 3, 4]], paths: ['tfjs-webgpu'], reps: 2, minReps: 1, budgetMs: 0, roofline: false, generateTokens: 0, tfjsGpuTimeMaxMs });
    const none = (await run(0)).cases[0].paths[0];
    expect(none.ok, none.note).toBe(true);
    for (const t of [none.infer!, none.train!]) expect(t.gpuMs).toBeUndefined();
    const all = (await run(1e9)).cases[0].paths[0];
    // with timestamp queries (Dawn here may have none), every measurement has one; without, none is skipped either
    for (const t of [all.infer!, all.train!]) expect(t.gpuMsSkipped).toBeUndefined();
    for (const t of [none.infer!, none.train!]) expect(t.gpuMsSkipped).toBe(all.infer!.gpuMs !== undefined);
  });
});
describe('benchmark parity (--quick shapes, Node)', () => {
  let result: BenchResult;

  it('runs every cell on every path that supports it, and every pair agrees', async () => {
    result = await runBench({ cells: ALL_CELLS, shapes: QUICK_SHAPES, paths: ALL_PATHS, timings: false, train: true, roofline: false });
    expect(result.failures).toEqual([]);
    expect(result.cases.length).toBe(ALL_CELLS.length * QUICK_SHAPES.length);
    for (const c of result.cases) {
      const label = `${c.cell} (${c.shape.join(',')})`;
      for (const p of c.paths) {
        // The only expected skips: tfjs has no PyTorch-style GRU (reset_after=True).
        // (ours-wasm runs: a wasm backend that stopped loading would read "not available: …" and fail here.)
        const expectSkip = c.cell === 'gru_torch' && p.path.startsWith('tfjs-');
        expect(p.ok, `${label} ${p.path}: ${p.note ?? ''}`).toBe(!expectSkip);
        if (!p.ok) continue;
        expect(p.parityFail, `${label} ${p.path}`).toBe(false);
        expect(p.maxAbsWorstPair!, `${label} ${p.path} output`).toBeLessThanOrEqual(DEFAULT_CONFIG.tolOutput);
        expect(p.gradRelWorstPair!, `${label} ${p.path} gradient`).toBeLessThanOrEqual(DEFAULT_CONFIG.tolGradRel);
      }
      // every pair that ran was compared: n paths → n(n−1)/2 output pairs; gradients
      // between the m paths that train (all but ONNX Runtime's)
      const n = c.paths.filter((p) => p.ok).length;
      const m = c.paths.filter((p) => p.ok && !p.path.startsWith('ort-')).length;
      expect(Object.keys(c.outputPairs).length, label).toBe((n * (n - 1)) / 2);
      expect(Object.keys(c.gradPairs).length, label).toBe((m * (m - 1)) / 2);
      for (const key of Object.keys(c.outputPairs)) expect(key.split('|').length).toBe(2);
    }
  });

  it('reports our dispatches per step (the persistent path issues fewer than the per-step one)', () => {
    // The exact counts are the kernels' business (README: 1 per step, 2 for the Keras
    // v1 GRU, 1/T persistent); here only that the benchmark reads them.
    for (const c of result.cases) {
      const step = c.paths.find((p) => p.path === 'ours-step')!;
      const persistent = c.paths.find((p) => p.path === 'ours-persistent')!;
      expect(step.dispatchesPerStep, `${c.cell} step`).toBeGreaterThan(0);
      expect(persistent.dispatchesPerStep, `${c.cell} persistent`).toBeGreaterThan(0);
      if (c.shape[1] > 1) expect(persistent.dispatchesPerStep!, `${c.cell} persistent`).toBeLessThan(step.dispatchesPerStep!);
    }
  });

  it('says which provider ran each node, and flags the recurrent node that did not run on the path\'s provider', () => {
    for (const c of result.cases) {
      const label = `${c.cell} (${c.shape.join(',')})`;
      for (const path of ['ort-wasm', 'ort-webgpu'] as const) {
        const p = c.paths.find((q) => q.path === path)!;
        expect(p.ok, `${label} ${path}: ${p.note ?? ''}`).toBe(true);
        // every node of the model is listed (Transpose, the cell, Squeeze, Transpose)
        expect(Object.keys(p.providers!).length, `${label} ${path}`).toBeGreaterThanOrEqual(4);
        expect(p.recurrentProvider, `${label} ${path}`).toBeTruthy();
        const expected = path === 'ort-wasm' ? ['CPUExecutionProvider'] : ['WebGpuExecutionProvider', 'JsExecutionProvider'];
        expect(p.providerMismatch, `${label} ${path}`).toBe(!expected.includes(p.recurrentProvider!));
        if (p.providerMismatch) expect(p.note, `${label} ${path}`).toMatch(/ran on \w+ExecutionProvider, not/);
      }
      // the wasm provider runs everything on the CPU
      const w = c.paths.find((q) => q.path === 'ort-wasm')!;
      expect(new Set(Object.values(w.providers!)), label).toEqual(new Set(['CPUExecutionProvider']));
    }
    // ONNX Runtime 1.30's WebGPU provider has LSTM and GRU kernels (so the rows compare GPU to GPU) …
    for (const c of result.cases.filter((k) => k.cell !== 'rnn')) {
      expect(c.paths.find((q) => q.path === 'ort-webgpu')!.recurrentProvider, c.cell).toBe('WebGpuExecutionProvider');
    }
  });
});

// bench/onnx.ts against torch.onnx.export: bench/fixtures/make_onnx.py exported a
// seeded nn.LSTM / nn.GRU / nn.RNN (batch-first, opset 14) and wrote the same
// weights in Keras layout (converted in Python) with torch's float64 output. The
// model bench/onnx.ts builds from those Keras weights must run in ONNX Runtime to
// the exported model's output (both float32 in the same runtime: ≤ 1e-6, summation
// order only) and to torch's (float32 vs float64 over 5 steps: ≤ 1e-5).
describe('bench/onnx.ts builds what torch.onnx.export writes', () => {
  it('the same outputs in ONNX Runtime (wasm) as the exported models, and as torch', async () => {
    const { readFileSync } = await import('node:fs');
    const { buildOnnxModel, kerasToOnnx } = await import('../bench/onnx');
    const { loadOrt } = await import('../bench/ort');
    const dir = new URL('../bench/fixtures/', import.meta.url);
    const fx = JSON.parse(readFileSync(new URL('onnx_fixtures.json', dir), 'utf8')) as {
      shape: [number, number, number, number];
      cells: Record<string, { onnx: string; nodes: string[]; x: number[]; y: number[]; kernel: number[]; recurrentKernel: number[]; bias: number[] }>;
    };
    const [B, T, I, H] = fx.shape;
    const ort = await loadOrt('ort-wasm');
    expect(Object.keys(fx.cells).sort()).toEqual(['gru_torch', 'lstm', 'rnn']);
    for (const [cell, c] of Object.entries(fx.cells)) {
      const ours = buildOnnxModel(cell as 'lstm', fx.shape, kerasToOnnx(cell as 'lstm', I, H, c));
      const theirs = new Uint8Array(readFileSync(new URL(c.onnx, dir)));
      const x = new ort.Tensor('float32', Float32Array.from(c.x), [B, T, I]);
      const outputs: Float32Array[] = [];
      for (const bytes of [ours, theirs]) {
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        const y = (await s.run({ x })).y;
        expect(y.dims, cell).toEqual([B, T, H]);
        outputs.push(y.data as Float32Array);
        await s.release();
      }
      let vsExport = 0;
      let vsTorch = 0;
      for (let i = 0; i < c.y.length; i++) {
        vsExport = Math.max(vsExport, Math.abs(outputs[0][i] - outputs[1][i]));
        vsTorch = Math.max(vsTorch, Math.abs(outputs[0][i] - c.y[i]));
      }
      console.log(`${cell}: |ours − torch.onnx.export| ${vsExport.toExponential(1)}, |ours − torch| ${vsTorch.toExponential(1)}`);
      expect(vsExport, `${cell} vs the exported model`).toBeLessThanOrEqual(1e-6);
      expect(vsTorch, `${cell} vs torch`).toBeLessThanOrEqual(1e-5);
      // the exported graph has the node bench/onnx.ts writes (and the zero-state plumbing it leaves out)
      expect(c.nodes, cell).toContain(cell === 'lstm' ? 'LSTM' : cell === 'rnn' ? 'RNN' : 'GRU');
    }
  });
});

// The same paths in headless Chromium, where the benchmark runs (bench/run.mjs's
// runInBrowser: Vite serves ONNX Runtime's .wasm/.mjs from node_modules and its log
// comes through console.*): one tiny shape, parity only.
describe('benchmark paths in headless Chromium (tiny shape)', () => {
  it('ours-cpu, ours-wasm, ort-webgpu and ort-wasm run and agree, with the provider of every node', async () => {
    const runMjs = new URL('../bench/run.mjs', import.meta.url).href;
    const { runInBrowser } = (await import(/* @vite-ignore */ runMjs)) as { runInBrowser: (cfg: object, progress: (l: string) => void) => Promise<BenchResult> };
    const r = await runInBrowser(
      { cells: ['lstm', 'rnn'], shapes: [[2, 3, 5, 4]], paths: ['ours-cpu', 'ours-wasm', 'ort-webgpu', 'ort-wasm'], timings: false, train: true, roofline: false, generateTokens: 0 },
      () => {},
    );
    expect(r.failures).toEqual([]);
    expect(r.crossOriginIsolated).toBe(false); // so: one wasm thread for ONNX Runtime, as the README says
    for (const c of r.cases) {
      for (const p of c.paths) {
        expect(p.ok, `${c.cell} ${p.path}: ${p.note ?? ''}`).toBe(true);
        expect(p.maxAbsWorstPair!, `${c.cell} ${p.path}`).toBeLessThanOrEqual(DEFAULT_CONFIG.tolOutput);
      }
      const ortGpu = c.paths.find((p) => p.path === 'ort-webgpu')!;
      const ortWasm = c.paths.find((p) => p.path === 'ort-wasm')!;
      expect(ortWasm.recurrentProvider, c.cell).toBe('CPUExecutionProvider');
      // LSTM on ONNX Runtime's WebGPU provider; its RNN falls back to the CPU, and the row says so
      expect(ortGpu.recurrentProvider, c.cell).toBe(c.cell === 'lstm' ? 'WebGpuExecutionProvider' : 'CPUExecutionProvider');
      expect(ortGpu.providerMismatch, c.cell).toBe(c.cell !== 'lstm');
      expect(Object.keys(c.gradPairs).length, c.cell).toBe(1); // ours-cpu | ours-wasm: ONNX Runtime does not train
    }
  });
});
