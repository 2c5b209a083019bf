// Both backends against PyTorch float64 fixtures, in Node (Dawn on SwiftShader).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/forward.json';
import type { Runtime } from '../src/index';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { runTorchCases, summarize, type ParityRow, type TorchCase } from './parity/torch_cases';

const cases = fixtures.cases as unknown as TorchCase[];

describe('PyTorch fixtures', () => {
  let gpu: Runtime;
  let cpu: Runtime;
  const all: ParityRow[] = [];
  beforeAll(async () => {
    gpu = await gpuRuntime();
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    console.log('max abs error vs PyTorch float64 (cell, path):', summarize(all));
    gpu?.dispose();
  });

  for (const c of cases) {
    it(`${c.name}: cpu reference within 1e-6`, async () => {
      const rows = await runTorchCases(cpu, [c], ['auto']);
      all.push(...rows);
      for (const r of rows) expect(r.ok, r.detail).toBe(true);
    });
    it(`${c.name}: gpu per-step and persistent within 1e-5`, async () => {
      const rows = await runTorchCases(gpu, [c], ['step', 'persistent']);
      all.push(...rows);
      expect(rows.map((r) => r.path)).toContain('step');
      expect(rows.map((r) => r.path)).toContain('persistent');
      for (const r of rows) expect(r.ok, `${r.path}: ${r.detail}`).toBe(true);
    });
  }
});
