// Parity in headless Chromium (WebGPU on SwiftShader without a GPU): the page
// tests/browser/parity.ts runs the PyTorch fixtures on both runtimes, GPU vs CPU on
// random data, and the heads fixtures; this test asserts every row. The browser
// runs once (beforeAll); the tests below slice its rows so a failure names the
// suite and group.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParityPageResult, PageRow } from './browser/parity';
import { runInBrowser, type BrowserRun } from './helpers/browser';
import { matmulCases } from './parity/matmul_cases';
import { attentionCases } from './parity/attention_cases';
import { randomCases } from './parity/random_cases';

const SUITES = ['torch', 'random', 'heads', 'matmul', 'attention', 'cell_activation'] as const;
const RANDOM_GROUPS = [...new Set(randomCases.map((c) => c.group))];

function failures(rows: PageRow[]): string {
  return rows
    .filter((r) => !r.ok)
    .map((r) => `${r.suite} ${r.path ?? ''} ${r.name}: ${r.detail}`)
    .join('\n');
}

function maxAbsBy(rows: PageRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const k = `${r.suite} ${r.group}${r.path ? ` ${r.path}` : ''}`;
    // NaN becomes null through JSON: count it as infinitely wrong.
    out[k] = Math.max(out[k] ?? 0, typeof r.maxAbs === 'number' ? r.maxAbs : Infinity);
  }
  return out;
}

describe('parity in headless Chromium', () => {
  let run: BrowserRun;
  let page: ParityPageResult;

  beforeAll(async () => {
    run = await runInBrowser('/tests/browser/parity.ts');
    page = run.result as ParityPageResult;
    console.log(`browser adapter: ${run.adapterInfo}`);
    if (Array.isArray(page?.rows)) console.log('max abs error in Chromium (suite, group, path):', maxAbsBy(page.rows));
  });

  it('ran on a WebGPU adapter without console errors', () => {
    expect(run.result, JSON.stringify(run.result).slice(0, 2000)).not.toHaveProperty('error');
    expect(run.consoleErrors).toEqual([]);
    expect(run.adapterInfo).not.toMatch(/missing|returned null|threw/);
    expect(page.backend).toBe('webgpu');
    expect(page.cpuBackend).toBe('cpu');
    expect(page.adapter.length).toBeGreaterThan(0);
  });

  it('every row is within tolerance', () => {
    // An empty or truncated run must not pass: several hundred rows (torch, random, heads, matmul).
    expect(page.rows.length).toBeGreaterThan(100);
    expect(failures(page.rows), failures(page.rows)).toBe('');
  });

  for (const suite of SUITES) {
    it(`${suite}: rows present and ok`, () => {
      const rows = page.rows.filter((r) => r.suite === suite);
      expect(rows.length).toBeGreaterThan(0);
      expect(failures(rows), failures(rows)).toBe('');
    });
  }

  it('torch: both GPU paths and the CPU reference ran', () => {
    const paths = new Set(page.rows.filter((r) => r.suite === 'torch').map((r) => r.path));
    expect(paths).toEqual(new Set(['step', 'persistent', 'cpu']));
  });

  it("timestamps: a runtime created with { timestamps: true } times its forward pass on Chromium's adapter", () => {
    // Chromium's SwiftShader adapter offers 'timestamp-query'; gpuTime() then sums one pass.
    expect(page.timing).toMatchObject({ adapterHas: true, timestamps: true, passes: 1 });
    expect(page.timing!.ms).toBeGreaterThanOrEqual(0); // Chromium rounds timestamps (100 µs): a short pass may read 0
  });

  it('matmul: every case ran on the kernel it names, tiled and untiled', () => {
    const rows = page.rows.filter((r) => r.suite === 'matmul');
    expect(rows).toHaveLength(matmulCases.length);
    expect(new Set(rows.map((r) => r.group))).toEqual(new Set(matmulCases.map((c) => c.kernel)));
  });

  it('attention: every case of tests/parity/attention_cases.ts ran (out, a, recorded, dq, de)', () => {
    const rows = page.rows.filter((r) => r.suite === 'attention');
    expect(new Set(rows.map((r) => r.group))).toEqual(new Set(attentionCases.map((c) => c.name)));
    expect(rows).toHaveLength(attentionCases.length * 5);
  });

  for (const group of RANDOM_GROUPS) {
    it(`random ${group}: GPU vs CPU`, () => {
      const rows = page.rows.filter((r) => r.suite === 'random' && r.group === group);
      expect(rows.length).toBeGreaterThan(0);
      if (randomCases.find((c) => c.group === group)?.kind === 'recurrent') {
        expect(new Set(rows.map((r) => r.path))).toEqual(new Set(['step', 'persistent']));
      }
      expect(failures(rows), failures(rows)).toBe('');
    });
  }
});
