// The benchmark's parity part (bench/page.ts, as `npm run bench -- --quick --node
// --parity-only` runs it), so a benchmark that silently breaks (a path that stops
// running, a tfjs model that no longer matches ours, a wrong answer) fails CI.
// No timings are taken or asserted.
//
// Every cell × every path on --quick's shapes, in Node through Dawn (SwiftShader
// here): our per-step, persistent and CPU paths, and TensorFlow.js 4.22 on its
// webgpu (as shipped and with the packed matmul), cpu and wasm backends. Outputs
// and gradients (one SGD step, lr 1) of every pair of paths must agree within the
// benchmark's own tolerances (DEFAULT_CONFIG: output |Δ| ≤ 1e-4, gradients 1e-3
// relative; they are asserted here as the report colours them).
import { describe, expect, it } from 'vitest';
import { ALL_CELLS, ALL_PATHS, DEFAULT_CONFIG, QUICK_SHAPES, runBench, type BenchResult } from '../bench/page';

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
        const expectSkip = c.cell === 'gru_torch' && p.path.startsWith('tfjs-');
        expect(p.ok, `${label} ${p.path}: ${p.note ?? ''}`).toBe(!expectSkip);
        if (!p.ok) continue;
        expect(p.parityFail, `${label} ${p.path}`).toBe(false);
        expect(p.maxAbsWorstPair!, `${label} ${p.path} output`).toBeLessThanOrEqual(DEFAULT_CONFIG.tolOutput);
        expect(p.gradRelWorstPair!, `${label} ${p.path} gradient`).toBeLessThanOrEqual(DEFAULT_CONFIG.tolGradRel);
      }
      // every pair that ran was compared: n paths → n(n−1)/2 output and gradient pairs
      const n = c.paths.filter((p) => p.ok).length;
      expect(Object.keys(c.outputPairs).length, label).toBe((n * (n - 1)) / 2);
      expect(Object.keys(c.gradPairs).length, label).toBe((n * (n - 1)) / 2);
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
});
