// Backward passes against PyTorch float64 autograd, in Node (Dawn on SwiftShader)
// and on the CPU reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/gradients.json';
import { ValueError, type Runtime } from '../src/index';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { runGradCases, type GradCase, type GradRow } from './parity/grad_cases';

const cases = fixtures.cases as unknown as GradCase[];

describe('gradients vs PyTorch autograd', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const seen: Record<string, number> = {};
  const note = (rows: GradRow[], backend: string) => {
    for (const r of rows) seen[`${r.cell} ${backend}`] = Math.max(seen[`${r.cell} ${backend}`] ?? 0, r.relErr);
  };
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('max relative gradient error vs PyTorch (cell, backend):', seen);
    gpu?.dispose();
  });

  for (const c of cases) {
    it(`${c.name}: cpu reference within 1e-6 relative`, async () => {
      const rows = await runGradCases(cpu, [c]);
      note(rows, 'cpu');
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    });
    if (c.cell === 'gru' && !c.resetAfter) {
      it(`${c.name}: gpu training of the Keras v1 GRU is refused with a clear error`, async () => {
        await expect(runGradCases(gpu, [c])).rejects.toThrow(ValueError);
      });
      continue;
    }
    it(`${c.name}: gpu within 1e-4 relative`, async () => {
      const before = gpu.memory();
      const rows = await runGradCases(gpu, [c]);
      note(rows, 'gpu');
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
      expect(gpu.memory()).toEqual(before); // tapes, gradients and results all freed
    });
  }
});
