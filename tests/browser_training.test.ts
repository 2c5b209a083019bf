// Training parity in headless Chromium (WebGPU on SwiftShader without a GPU): the
// page tests/browser/training.ts runs the backward, optimizer, clipping, loss and
// metric kernels against PyTorch fixtures and their CPU twins, whole-model
// gradients GPU vs CPU, and a short training run's loss curve on both runtimes;
// this test asserts every row. The browser runs once (beforeAll); the tests below
// slice its rows so a failure names the group.
import { beforeAll, describe, expect, it } from 'vitest';
import gradients from './fixtures/gradients.json';
import optim from './fixtures/optim.json';
import type { TrainingGroup, TrainingPageResult, TrainingRow } from './browser/training';
import { runInBrowser, type BrowserRun } from './helpers/browser';
import type { GradCase } from './parity/grad_cases';
import { ignoredRowCases, lossCases } from './parity/loss_cases';
import { CURVE_EPOCHS } from './parity/loss_curve_cases';
import { AWKWARD_CONFIGS, AWKWARD_SIZES, CLIP_LARGE_SIZES, type OptimFixtures } from './parity/optim_cases';

const GROUPS: TrainingGroup[] = ['grad', 'optim', 'clip', 'loss', 'model', 'curve'];

const gradCases = gradients.cases as unknown as GradCase[];
const fx = optim as unknown as OptimFixtures;
const isKerasV1 = (c: GradCase) => c.cell === 'gru' && !c.resetAfter;
/** Rows runGradCases gives for a case: one per gradient the fixture has. */
const gradCount = (c: GradCase) => Object.values(c.grads).filter((g) => g !== null).length;

function failures(rows: TrainingRow[]): string {
  return rows
    .filter((r) => !r.ok)
    .map((r) => `${r.group} ${r.backend} ${r.name}: ${r.detail}`)
    .join('\n');
}

/** NaN and Infinity become null through JSON: count them as infinitely wrong. */
const err = (r: TrainingRow) => (typeof r.relErr === 'number' ? r.relErr : Infinity);

function maxErrBy(rows: TrainingRow[]): Record<string, string> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    if (r.pending) continue;
    const k = `${r.group} ${r.sub} ${r.backend}`;
    out[k] = Math.max(out[k] ?? 0, err(r));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.toExponential(2)]));
}

describe('training kernels in headless Chromium', () => {
  let run: BrowserRun;
  let page: TrainingPageResult;
  const of = (group: TrainingGroup) => page.rows.filter((r) => r.group === group);

  beforeAll(async () => {
    run = await runInBrowser('/tests/browser/training.ts');
    page = run.result as TrainingPageResult;
    console.log(`browser adapter: ${run.adapterInfo}`);
    if (Array.isArray(page?.rows)) {
      console.log('rows per group:', Object.fromEntries(GROUPS.map((g) => [g, page.rows.filter((r) => r.group === g).length])), 'ms per group:', page.ms);
      console.log('max relative error in Chromium (group, sub, backend):', maxErrBy(page.rows));
      const pending = page.rows.filter((r) => r.pending).map((r) => r.name);
      if (pending.length) console.log('expected refusals (Keras v1 GRU backward not on the GPU yet):', pending);
    }
  });

  it('ran on a WebGPU adapter without console errors', () => {
    expect(run.result, JSON.stringify(run.result).slice(0, 2000)).not.toHaveProperty('error');
    expect(run.consoleErrors).toEqual([]);
    expect(run.adapterInfo).not.toMatch(/missing|returned null|threw/);
    expect(page.backend).toBe('webgpu');
    expect(page.cpuBackend).toBe('cpu');
    expect(page.adapter.length).toBeGreaterThan(0);
  });

  it('every row is within tolerance, and an empty or truncated run cannot pass', () => {
    // Today 624: 390 grad + 84 optim + 22 clip + 74 loss + 34 model + 20 curve rows
    // (12 fewer grad rows while the GPU refuses the two Keras v1 GRU cases).
    expect(page.rows.length).toBeGreaterThanOrEqual(600);
    expect(failures(page.rows), failures(page.rows)).toBe('');
  });

  for (const group of GROUPS) {
    it(`${group}: rows present and ok`, () => {
      const rows = of(group);
      expect(rows.length).toBeGreaterThan(0);
      expect(failures(rows), failures(rows)).toBe('');
    });
  }

  it('grad: every gradients.json case ran on both runtimes (the Keras v1 GRU may be refused on the GPU)', () => {
    const rows = of('grad');
    const cpu = rows.filter((r) => r.backend === 'cpu');
    expect(cpu.length).toBe(gradCases.reduce((n, c) => n + gradCount(c), 0));
    for (const c of gradCases) {
      // `${case}.d${tensor}`, or `${case} refused (kernel pending)`, or `${case}` when it threw
      const gpu = rows.filter((r) => r.backend === 'webgpu' && (r.name === c.name || r.name.startsWith(`${c.name}.`) || r.name.startsWith(`${c.name} `)));
      if (isKerasV1(c) && gpu.some((r) => r.pending)) {
        // refused with a ValueError: one row, and nothing else for that case
        expect(gpu.length, `${c.name}: ${failures(gpu)}`).toBe(1);
      } else {
        expect(gpu.length, `${c.name} on the GPU`).toBe(gradCount(c));
        expect(gpu.every((r) => !r.pending)).toBe(true);
      }
    }
    // Only the Keras v1 GRU may be refused.
    expect(rows.filter((r) => r.pending).every((r) => r.sub === 'gru_keras_v1' && r.backend === 'webgpu')).toBe(true);
  });

  it('optim: every optim.json config on both runtimes, and awkward sizes on the GPU', () => {
    const rows = of('optim');
    const steps = fx.optimizers.reduce((n, c) => n + c.steps.length, 0);
    expect(rows.filter((r) => r.backend === 'cpu').length).toBe(steps);
    expect(rows.filter((r) => r.backend === 'webgpu').length).toBe(steps + AWKWARD_CONFIGS.length * AWKWARD_SIZES.length);
  });

  it('clip: clipGradNorm and clipGradValue on both runtimes, large sizes on the GPU', () => {
    const rows = of('clip');
    const perRuntime = fx.clipGradNorm.reduce((n, c) => n + c.gradsIn.length + 1, 0) + fx.clipGradValue.gradsIn.length;
    expect(rows.filter((r) => r.backend === 'cpu').length).toBe(perRuntime);
    expect(rows.filter((r) => r.backend === 'webgpu').length).toBe(perRuntime + CLIP_LARGE_SIZES.length + 1);
  });

  it('loss: every loss case on the GPU, the ignored-row cases on both runtimes', () => {
    const rows = of('loss');
    // Each case gives at least one row (today 50 on the GPU vs twin, 12 ignored-row checks per runtime).
    expect(rows.filter((r) => r.backend === 'webgpu').length).toBeGreaterThanOrEqual(lossCases.length + ignoredRowCases.length);
    expect(rows.filter((r) => r.backend === 'cpu').length).toBeGreaterThanOrEqual(ignoredRowCases.length);
    for (const sub of ['mse', 'bce', 'binaryAccuracy', 'softmaxXent', 'categoricalAccuracy', 'perplexity', 'ignored']) {
      expect(rows.some((r) => r.sub === sub), `no ${sub} rows`).toBe(true);
    }
  });

  it('model: both model shapes compared parameter by parameter', () => {
    for (const sub of ['many-to-many', 'many-to-one', 'many-to-many keras', 'many-to-one keras']) {
      // Embedding 1 + bidirectional GRU 8 + LSTM 4 + Dense 2 = 15 parameters, plus 2 checks.
      expect(of('model').filter((r) => r.sub === sub).length, sub).toBe(17);
      // ‖∂L/∂h_t‖ of the two recurrent layers (step_grad_norms.wgsl), GPU vs CPU
      expect(of('model').filter((r) => r.sub === `${sub} norms`).length, `${sub} norms`).toBe(2);
    }
  });

  it(`curve: ${CURVE_EPOCHS} epochs compared`, () => {
    expect(of('curve').length).toBe(CURVE_EPOCHS);
  });
});
