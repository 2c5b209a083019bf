// The wasm backend through the public API, in Node: what createRuntime reports
// ('wasm', 'auto'), the PyTorch forward and gradient fixtures, layers and streams
// against the float64 CPU reference, a short training run's loss curve against the
// reference's, and the weights cache following loads and optimizer steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import forward from './fixtures/forward.json';
import gradients from './fixtures/gradients.json';
import { Adam, SGD, WebGPUUnavailableError, clipGradNorm, createRuntime, type Runtime } from '../src/index';
import { cpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';
import { runGradCases, type GradCase } from './parity/grad_cases';
import { runLossCurveCase } from './parity/loss_curve_cases';
import { runTorchCases, type TorchCase } from './parity/torch_cases';
import { runHeadsFixtureCases, type HeadsFixtures } from './parity/random_cases';
import { denseCases, runDenseCase } from './parity/wasm_cases';
import heads from './fixtures/heads.json';

const noAdapter = { requestAdapter: async () => null } as unknown as GPU;

describe('createRuntime: wasm and auto', () => {
  it("{ backend: 'wasm' } reports itself", async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    expect(rt.backend).toBe('wasm');
    expect(rt.adapterName).toMatch(/^wasm simd128 \(float32, 1 thread\)$/);
    expect(rt.device).toBeNull();
    rt.dispose();
  });

  it("'auto' takes WebGPU when there is an adapter (Dawn here), else wasm; the default never falls back", async () => {
    const auto = await createRuntime({ backend: 'auto' });
    expect(auto.backend).toBe('webgpu');
    auto.dispose();
    const fallback = await createRuntime({ backend: 'auto', gpu: noAdapter });
    expect(fallback.backend).toBe('wasm');
    await expect(createRuntime({ gpu: noAdapter })).rejects.toBeInstanceOf(WebGPUUnavailableError);
    await expect(createRuntime({ backend: 'wasmm' as 'wasm' })).rejects.toThrow(/'webgpu', 'cpu', 'wasm' or 'auto'/);
  });
});

describe('wasm threads', () => {
  it('{ threads: 2 } runs the GEMMs on 2 threads (Node worker_threads) and matches the fixtures; bad values are ValueErrors', async () => {
    const rt = await createRuntime({ backend: 'wasm', threads: 2 });
    expect(rt.adapterName).toBe('wasm simd128 (float32, 2 threads)');
    const rows = await runTorchCases(rt, forward.cases as unknown as TorchCase[], ['auto']);
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect(r.ok, r.detail).toBe(true);
    const grads = await runGradCases(rt, (gradients.cases as unknown as GradCase[]).slice(0, 3));
    for (const r of grads) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    rt.dispose(); // stops the workers; the process must still exit (they are unref'd)
    for (const bad of [0, 1.5, 65, NaN]) await expect(createRuntime({ backend: 'wasm', threads: bad })).rejects.toThrow(/threads must be an integer in \[1, 64\]/);
    await expect(createRuntime({ backend: 'cpu', threads: 2 })).rejects.toThrow(/threads is an option of the wasm backend/);
  });
});

describe('wasm backend vs PyTorch fixtures', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ backend: 'wasm' });
  });

  for (const c of forward.cases as unknown as TorchCase[]) {
    it(`forward ${c.name} within 1e-5`, async () => {
      const rows = await runTorchCases(rt, [c], ['auto']);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.every((r) => r.path === 'wasm')).toBe(true);
      for (const r of rows) expect(r.ok, r.detail).toBe(true);
    });
  }

  for (const c of gradients.cases as unknown as GradCase[]) {
    it(`gradients ${c.name} within 1e-4 relative`, async () => {
      const rows = await runGradCases(rt, [c]);
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
    });
  }
});

describe('wasm backend: Dense, Embedding, Softmax vs PyTorch (heads.json)', () => {
  it('every head within 1e-5', async () => {
    const rt = await createRuntime({ backend: 'wasm' });
    const rows = await runHeadsFixtureCases(rt, heads as HeadsFixtures);
    expect(rows.length).toBeGreaterThan(3);
    for (const r of rows) expect(r.ok, `${r.name}: ${r.detail}`).toBe(true);
  });
});

describe('wasm backend vs the CPU reference', () => {
  let wasm: Runtime;
  let cpu: Runtime;
  beforeAll(async () => {
    wasm = await createRuntime({ backend: 'wasm' });
    cpu = await cpuRuntime();
  });
  afterAll(() => {
    wasm?.dispose();
    cpu?.dispose();
  });

  for (const c of denseCases) {
    it(`${c.name}: forward and backward (GEMMs)`, async () => {
      const rows = await runDenseCase(wasm, cpu, c);
      for (const r of rows) expect(r.ok, r.detail).toBe(true);
    });
  }

  it('a stream continues its state across calls as one forward does', async () => {
    const opts = { inputSize: 3, hiddenSize: 5, seed: 4 };
    const layer = wasm.gru(opts);
    const x = Float32Array.from({ length: 2 * 6 * 3 }, (_, i) => Math.sin(i));
    const whole = await (await cpu.gru(opts).forward(x, { batch: 2, seqLen: 6 })).output.read();
    const s = layer.stream(2);
    const parts: number[][] = [[], []];
    for (const [t0, n] of [[0, 2], [2, 1], [3, 3]]) {
      const chunk = new Float32Array(2 * n * 3);
      for (let b = 0; b < 2; b++) chunk.set(x.subarray((b * 6 + t0) * 3, (b * 6 + t0 + n) * 3), b * n * 3);
      const y = await (await s.forward(chunk, n)).read();
      for (let b = 0; b < 2; b++) parts[b].push(...y.subarray(b * n * 5, (b + 1) * n * 5));
    }
    const cmp = compare('stream', whole, [...parts[0], ...parts[1]], { atol: 1e-5 });
    expect(cmp.ok, cmp.detail).toBe(true);
  });

  it('a 20-epoch training run (Embedding → LSTM → Dense, Adam) follows the reference loss curve within 1e-4', async () => {
    const r = await runLossCurveCase(wasm, cpu);
    console.log('wasm vs cpu loss curve: first', r.gpu[0], r.cpu[0], 'last', r.gpu.at(-1), r.cpu.at(-1));
    expect(r.rows).toHaveLength(20);
    for (const row of r.rows) expect(row.ok, `${row.name}: ${row.detail}`).toBe(true);
    expect(r.gpu.at(-1)!).toBeLessThan(r.gpu[0] * 0.6); // it learned
  });

  it("a recorded tape holds the engine's memory until backward() or dispose(); a refused backward keeps it", async () => {
    const eng = (wasm.backendRef as { engine?: { liveBytes: number } }).engine!;
    const layer = wasm.gru({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 5 });
    const x = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.cos(i));
    (await layer.forward(x, { batch: 2, seqLen: 4 })).output.dispose(); // packs the weights
    const base = eng.liveBytes;
    const f = await layer.forward(x, { batch: 2, seqLen: 4, record: true });
    expect(eng.liveBytes).toBeGreaterThan(base);
    await expect(layer.backward(f.tape!, { dOutput: new Float32Array(3) })).rejects.toThrow(/dOutput/);
    expect(eng.liveBytes).toBeGreaterThan(base); // still recorded: a bad call changes nothing
    await layer.backward(f.tape!, { dOutput: new Float32Array(2 * 4 * 10).fill(0.1) });
    expect(eng.liveBytes).toBe(base);
    const f2 = await layer.forward(x, { batch: 2, seqLen: 4, record: true });
    f2.tape!.dispose();
    expect(eng.liveBytes).toBe(base);
    layer.dispose();
    expect(eng.liveBytes).toBeLessThan(base); // the packed weights too
  });

  it('the packed weights follow loadTorchStateDict and optimizer steps (and clipping leaves values alone)', async () => {
    const opts = { inputSize: 2, hiddenSize: 3, seed: 9 };
    const x = Float32Array.from([0.5, -1, 0.25, 2, -0.5, 1]);
    const run = async (layer: ReturnType<Runtime['lstm']>) => {
      const f = await layer.forward(x, { batch: 1, seqLen: 3, record: true });
      const out = await f.output.read();
      await layer.backward(f.tape!, { dOutput: new Float32Array(9).fill(1) });
      return out;
    };
    const lw = wasm.lstm(opts);
    const lc = cpu.lstm(opts);
    const ow = new SGD(lw.parameters(), { lr: 0.5, runtime: wasm });
    const oc = new SGD(lc.parameters(), { lr: 0.5, runtime: cpu });
    for (let step = 0; step < 3; step++) {
      const a = await run(lw);
      const b = await run(lc);
      const cmp = compare(`step ${step} output`, b, a, { atol: 1e-5 });
      expect(cmp.ok, cmp.detail).toBe(true);
      await clipGradNorm(lw.parameters(), 1, { runtime: wasm });
      await clipGradNorm(lc.parameters(), 1, { runtime: cpu });
      await ow.step();
      await oc.step();
      lw.zeroGrad();
      lc.zeroGrad();
    }
    // a load replaces the weights: the next forward must use them
    lw.loadTorchStateDict(lc.torchStateDict());
    const cmp = compare('after load', await run(lc), await run(lw), { atol: 1e-5 });
    expect(cmp.ok, cmp.detail).toBe(true);
    const adam = new Adam(lw.parameters(), { lr: 0.1, runtime: wasm });
    await adam.step();
    const moved = await run(lw);
    expect(compare('after adam', await run(lc), moved, { atol: 1e-5 }).ok).toBe(false); // the step reached the kernels
    for (const o of [ow, oc, adam]) o.dispose();
  });
});
