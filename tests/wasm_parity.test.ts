// The wasm backend's kernels vs their float64 twins in Node (tests/parity/wasm_cases.ts):
// every GEMM case and every stack case (forward, and backward with weight gradients),
// one test per case so a failure names it. Also: a call frees every block it allocated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LimitError } from '../src/errors';
import { WasmEngine } from '../src/wasm/engine';
import { gemmCases, runGemmCase, runStackCase, stackCases, type WasmRow } from './parity/wasm_cases';

function expectOk(rows: WasmRow[]): void {
  expect(rows.length).toBeGreaterThan(0);
  const bad = rows.filter((r) => !r.ok);
  expect(bad.map((r) => r.detail), bad.map((r) => `${r.name}: ${r.detail}`).join('\n')).toEqual([]);
}

describe('wasm kernels vs the float64 reference', () => {
  let eng: WasmEngine;
  beforeAll(async () => {
    eng = await WasmEngine.create();
  });

  it('memory the engine cannot grow to is a LimitError, and the engine stays usable', () => {
    const before = eng.liveBytes;
    expect(() => eng.alloc(2 ** 31)).toThrow(LimitError); // 8 GiB: over wasm32's 4 GiB
    expect(eng.liveBytes).toBe(before);
    expectOk([runGemmCase(eng, gemmCases[1])]);
  });

  for (const c of gemmCases) it(c.name, () => expectOk([runGemmCase(eng, c)]));

  for (const c of stackCases) {
    it(c.name, () => {
      const before = eng.liveBytes;
      const rows = runStackCase(eng, c);
      expectOk(rows);
      expect(rows.some((r) => r.kernel === 'backward')).toBe(true);
      expect(eng.liveBytes).toBe(before); // weights and call scratch all freed
    });
  }
});

describe('wasm kernels on 3 threads (every GEMM split over the pool) vs the float64 reference', () => {
  let eng: WasmEngine;
  beforeAll(async () => {
    eng = await WasmEngine.create({ threads: 3, parallelMacs: 0 });
  });
  afterAll(() => eng.dispose());

  it('runs 3 threads', () => {
    expect(eng.threads).toBe(3);
    expect(eng.name).toBe('wasm simd128 (float32, 3 threads)');
  });
  for (const c of gemmCases) it(c.name, () => expectOk([runGemmCase(eng, c)]));
  for (const c of stackCases) it(c.name, () => expectOk(runStackCase(eng, c)));
});
