// The wasm backend in headless Chromium (tests/browser/wasm_parity.ts): every kernel
// case against the float64 reference, the PyTorch forward and gradient fixtures,
// Dense against the reference runtime, and 'auto' choosing WebGPU on a page that has it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmPageResult, WasmPageRow } from './browser/wasm_parity';
import { runInBrowser, type BrowserRun } from './helpers/browser';
import { denseCases, gemmCases, stackCases } from './parity/wasm_cases';

const failures = (rows: WasmPageRow[]) =>
  rows
    .filter((r) => !r.ok)
    .map((r) => `${r.suite} ${r.name}: ${r.detail}`)
    .join('\n');

describe('wasm backend in headless Chromium', () => {
  let run: BrowserRun;
  let page: WasmPageResult;
  beforeAll(async () => {
    run = await runInBrowser('/tests/browser/wasm_parity.ts');
    page = run.result as WasmPageResult;
  });

  it('ran without errors and reports the wasm backend', () => {
    expect(run.result, JSON.stringify(run.result).slice(0, 2000)).not.toHaveProperty('error');
    expect(run.consoleErrors).toEqual([]);
    expect(page.backend).toBe('wasm');
    expect(page.adapterName).toBe('wasm simd128 (float32, 1 thread)');
    expect(page.autoBackend).toBe('webgpu'); // the page has an adapter (SwiftShader)
    expect(page.leakedBytes).toBe(0);
    // the test page is not cross-origin isolated: no SharedArrayBuffer workers, one thread, and the name says why
    expect(page.crossOriginIsolated).toBe(false);
    expect(page.threadedName).toBe('wasm simd128 (float32, 1 thread: 2 asked; the page is not cross-origin isolated (no SharedArrayBuffer))');
  });

  for (const suite of ['kernels', 'torch', 'gradients', 'dense'] as const) {
    it(`${suite}: every row within tolerance`, () => {
      const rows = page.rows.filter((r) => r.suite === suite);
      expect(rows.length).toBeGreaterThan(suite === 'kernels' ? gemmCases.length + stackCases.length * 5 : suite === 'dense' ? denseCases.length * 3 : 10);
      expect(failures(rows), failures(rows)).toBe('');
    });
  }
});
