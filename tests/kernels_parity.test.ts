// GPU kernels vs the float64 CPU reference on seeded random data, in Node (Dawn on
// SwiftShader): every cell on both recurrent paths, Dense, Embedding, Softmax
// (tests/parity/random_cases.ts), plus the heads on both backends against the
// PyTorch fixtures of tests/fixtures/heads.json, and the matmul kernels one by one
// against their twin (tests/parity/matmul_cases.ts). One test per case, so a failure
// names it; tolerances live with the cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import heads from './fixtures/heads.json';
import type { Runtime } from '../src/index';
import type { GpuContext } from '../src/gpu/context';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { matmulCases, runMatmulCases } from './parity/matmul_cases';
import { caseTable, randomCases, runHeadsFixtureCases, runRandomCases, summarizeRows, type HeadsFixtures, type Row } from './parity/random_cases';

function expectAllOk(rows: Row[]): void {
  expect(rows.length).toBeGreaterThan(0);
  const bad = rows.filter((r) => !r.ok);
  expect(bad.map((r) => r.detail), bad.map((r) => `${r.name}: ${r.detail}`).join('\n')).toEqual([]);
}

describe('GPU kernels vs CPU reference (random data)', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const all: Row[] = [];
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log(`max abs error GPU vs CPU per case:\n${caseTable(all)}`);
    console.log('max abs error GPU vs CPU (group, path):', summarizeRows(all));
    gpu?.dispose();
  });

  for (const c of randomCases) {
    it(c.name, async () => {
      const rows = await runRandomCases(gpu, cpu, { cases: [c.name] });
      all.push(...rows);
      if (c.kind === 'recurrent') {
        expect(new Set(rows.map((r) => r.path))).toEqual(new Set(['step', 'persistent']));
      }
      expectAllOk(rows);
    });
  }
});

describe('heads vs PyTorch fixtures (heads.json)', () => {
  const all: Row[] = [];
  afterAll(() => console.log('max abs error vs PyTorch float64 (group, backend):', summarizeRows(all)));

  it('cpu reference within 1e-6', async () => {
    const rows = await runHeadsFixtureCases(await cpuRuntime(), heads as HeadsFixtures);
    all.push(...rows);
    expect(rows.length).toBe(1 + heads.linear.length + heads.softmax.length);
    expectAllOk(rows);
  });

  it('gpu within 1e-5', async () => {
    const gpu = await gpuRuntime();
    try {
      const rows = await runHeadsFixtureCases(gpu, heads as HeadsFixtures);
      all.push(...rows);
      expect(rows.length).toBe(1 + heads.linear.length + heads.softmax.length);
      expectAllOk(rows);
    } finally {
      gpu.dispose();
    }
  });
});

describe('matmul kernels vs their CPU twin (random data)', () => {
  let gpu: Runtime;
  let ctx: GpuContext;
  beforeAll(async () => {
    gpu = await gpuRuntime();
    const be = gpu.backendRef;
    if (be.kind !== 'webgpu') throw new Error('expected the webgpu backend');
    ctx = be.ctx;
  });
  afterAll(() => gpu?.dispose());

  for (const c of matmulCases) {
    it(`${c.name} (${c.kernel})`, async () => {
      const rows = await runMatmulCases(ctx, [c]);
      expect(rows).toHaveLength(1);
      expect(rows[0].ok, rows[0].detail).toBe(true);
    });
  }

  it('every matmul kernel is exercised: tiled with each TRANS_A/TRANS_B choice, and both untiled ones', () => {
    const kernels = new Set(matmulCases.map((c) => c.kernel));
    expect(kernels).toEqual(new Set(['matmul_tiled', 'matmul_bias_forward', 'matmul_backward']));
    const tiled = matmulCases.filter((c) => c.kernel === 'matmul_tiled');
    expect(new Set(tiled.map((c) => `${c.op}/${c.transA ?? false}/${c.accumulate ?? false}`)).size).toBeGreaterThanOrEqual(4);
  });
});
