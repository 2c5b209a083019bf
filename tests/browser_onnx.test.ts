// rt.loadOnnx in headless Chromium (WebGPU on SwiftShader without a GPU, and the
// CPU runtime): the page (tests/browser/onnx.ts) fetches .onnx files and torch's
// outputs from tests/fixtures/onnx/ (tests/fixtures/make_onnx.py: torch.onnx.export
// of a 2-layer bidirectional LSTM and of Embedding → LSTM → Linear, and an
// onnx.helper LSTM with sequence_lens), runs them on both runtimes and compares.
// Tolerance: 1e-5 abs, the bar (as in tests/onnx.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { ONNX_MODELS, type OnnxPageResult } from './browser/onnx';
import { runInBrowser, type BrowserRun } from './helpers/browser';

describe('loadOnnx in headless Chromium', () => {
  let run: BrowserRun;
  let page: OnnxPageResult;

  beforeAll(async () => {
    run = await runInBrowser('/tests/browser/onnx.ts');
    page = run.result as OnnxPageResult;
    console.log(`browser adapter: ${run.adapterInfo}`);
    if (Array.isArray(page?.rows)) console.log('max |ours − torch| in Chromium:', Object.fromEntries(page.rows.map((r) => [`${r.model}/${r.backend}`, r.maxAbs])));
  });

  it('ran on WebGPU and on the CPU runtime, without console errors', () => {
    expect(run.result, JSON.stringify(run.result).slice(0, 2000)).not.toHaveProperty('error');
    expect(run.adapterInfo).not.toMatch(/missing|returned null|threw/);
    expect(run.consoleErrors).toEqual([]);
  });

  it('every model matches torch (≤ 1e-5) on both backends', () => {
    expect(page.rows.map((r) => `${r.model}/${r.backend}`).sort()).toEqual(ONNX_MODELS.flatMap((m) => [`${m}/cpu`, `${m}/webgpu`]).sort());
    for (const r of page.rows) expect(r.ok, `${r.model}/${r.backend}: ${r.detail}`).toBe(true);
  });

  it('an unsupported operator is a ValueError listing the ops, with err.name intact', () => {
    expect(page.unsupported).toHaveLength(2);
    for (const e of page.unsupported) {
      expect(e, JSON.stringify(e)).toMatchObject({ name: 'ValueError', instanceOf: 'ValueError' });
      expect(e.message).toMatch(/Erf \(1 node\), LeakyRelu \(2 nodes\)/);
    }
  });
});
