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

  it('packPanels: P[p, k, j] = W[16p + j, k], 0 past row N, on the 4×4 SIMD path (N, K multiples of 4) and the element path', () => {
    for (const [N, K] of [[20, 8], [5, 3], [16, 6]]) {
      const sc = eng.scope();
      try {
        const w = sc.alloc(N * K);
        const np = Math.ceil(N / 16);
        const p = sc.alloc(np * 16 * K);
        const f = eng.f32();
        for (let i = 0; i < N * K; i++) f[(w >>> 2) + i] = i + 1;
        f.fill(-1, p >>> 2, (p >>> 2) + np * 16 * K); // garbage the packing must overwrite
        eng.k.packPanels(N, K, w, K, p);
        const got = Array.from(eng.f32().subarray(p >>> 2, (p >>> 2) + np * 16 * K));
        const want: number[] = [];
        for (let q = 0; q < np; q++) for (let k = 0; k < K; k++) for (let j = 0; j < 16; j++) want.push(16 * q + j < N ? (16 * q + j) * K + k + 1 : 0);
        expect(got, `N = ${N}, K = ${K}`).toEqual(want);
      } finally {
        sc.dispose();
      }
    }
  });

  it('transpose: dst[j, i] = src[i, j] with strides, edges that are not multiples of 4', () => {
    for (const [R, C] of [[21, 38], [4, 4], [3, 17], [33, 2]]) {
      const sc = eng.scope();
      try {
        const lds = C + 3;
        const ldd = R + 5;
        const src = sc.alloc(R * lds);
        const dst = sc.alloc(C * ldd);
        const f = eng.f32();
        for (let i = 0; i < R * lds; i++) f[(src >>> 2) + i] = i * 0.5;
        eng.k.transpose(R, C, src, lds, dst, ldd);
        const g = eng.f32();
        const bad: string[] = [];
        for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) if (g[(dst >>> 2) + j * ldd + i] !== g[(src >>> 2) + i * lds + j]) bad.push(`(${i}, ${j})`);
        expect(bad.slice(0, 5), `${R}x${C}`).toEqual([]);
      } finally {
        sc.dispose();
      }
    }
  });

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
