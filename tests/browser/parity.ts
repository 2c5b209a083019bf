// Browser parity page (driven by tests/browser_parity.test.ts through runInBrowser):
// the same checks as the Node tests, in headless Chromium's WebGPU.
//   - PyTorch fixtures (forward.json) on the GPU runtime (per-step and persistent)
//     and on the CPU reference;
//   - GPU kernels vs the CPU reference on seeded random data (random_cases.ts);
//   - Dense / Embedding / Softmax on both runtimes vs heads.json;
//   - the matmul kernels one by one vs their CPU twin (matmul_cases.ts);
//   - the cell activations relu/sigmoid/linear, forward and backward, both GPU paths
//     vs the CPU reference (cell_activation_cases.ts).
// Runtimes come from the public API: createRuntime() uses navigator.gpu here.
import { createRuntime } from '../../src/index';
import forward from '../fixtures/forward.json';
import heads from '../fixtures/heads.json';
import { matmulCases, runMatmulCases } from '../parity/matmul_cases';
import { runAttentionCases } from '../parity/attention_cases';
import { cellActivationCases, runCellActivationCase } from '../parity/cell_activation_cases';
import { runHeadsFixtureCases, runRandomCases, type HeadsFixtures } from '../parity/random_cases';
import { runTorchCases, type TorchCase } from '../parity/torch_cases';

/** A result row, tagged with the suite that produced it. */
export interface PageRow {
  suite: 'torch' | 'random' | 'heads' | 'matmul' | 'attention' | 'cell_activation';
  /** torch: the cell; random / heads: the group (cell, dense, embedding, softmax); matmul: the kernel that ran. */
  group: string;
  /** 'step' | 'persistent' | 'cpu' | 'webgpu'; absent for random head cases (GPU vs CPU). */
  path?: string;
  name: string;
  ok: boolean;
  maxAbs: number;
  detail: string;
}

export interface ParityPageResult {
  backend: string;
  cpuBackend: string;
  adapter: string;
  rows: PageRow[];
  /** A forward on a runtime created with { timestamps: true }: what gpuTime() returned. */
  timing: { timestamps: boolean; adapterHas: boolean; passes: number; ms: number } | null;
}

/** One LSTM forward on a runtime that times its passes (timestamp queries), and what it measured. */
async function timedForward(): Promise<ParityPageResult['timing']> {
  const adapter = await navigator.gpu.requestAdapter();
  const rt = await createRuntime({ timestamps: true });
  try {
    const layer = rt.lstm({ inputSize: 4, hiddenSize: 8 });
    const r = await layer.forward(new Float32Array(2 * 5 * 4).fill(0.5), { batch: 2, seqLen: 5 });
    await r.output.read();
    const t = await rt.gpuTime();
    return { timestamps: rt.timestamps, adapterHas: !!adapter?.features.has('timestamp-query'), passes: t?.passes ?? 0, ms: t?.ms ?? 0 };
  } finally {
    rt.dispose();
  }
}

export async function run(): Promise<ParityPageResult> {
  const gpu = await createRuntime();
  const cpu = await createRuntime({ backend: 'cpu' });
  try {
    const rows: PageRow[] = [];
    const cases = forward.cases as unknown as TorchCase[];
    for (const rt of [gpu, cpu]) {
      for (const r of await runTorchCases(rt, cases, ['step', 'persistent'])) {
        rows.push({ suite: 'torch', group: r.cell, path: r.path, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail });
      }
    }
    for (const r of await runRandomCases(gpu, cpu)) {
      rows.push({ suite: 'random', group: r.group, path: r.path, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail });
    }
    for (const rt of [gpu, cpu]) {
      for (const r of await runHeadsFixtureCases(rt, heads as HeadsFixtures)) {
        rows.push({ suite: 'heads', group: r.group, path: r.path, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail });
      }
    }
    const be = gpu.backendRef;
    if (be.kind !== 'webgpu') throw new Error('parity page: expected the webgpu backend');
    for (const r of await runMatmulCases(be.ctx, matmulCases)) {
      rows.push({ suite: 'matmul', group: r.kernel, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail });
    }
    rows.push(...(await attentionRows(gpu, cpu)));
    rows.push(...(await cellActivationRows(gpu, cpu)));
    return { backend: gpu.backend, cpuBackend: cpu.backend, adapter: gpu.adapterName, rows, timing: await timedForward() };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}

/** Luong dot attention's GPU kernels vs their CPU twin (tests/parity/attention_cases.ts). */
async function attentionRows(gpu: Awaited<ReturnType<typeof createRuntime>>, cpu: Awaited<ReturnType<typeof createRuntime>>): Promise<PageRow[]> {
  return (await runAttentionCases(gpu, cpu)).map((r) => ({ suite: 'attention', group: r.case, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail }));
}

/** GRU/LSTM/SimpleRNN with activation relu, sigmoid, linear: both GPU paths vs the CPU reference, outputs and gradients (tests/parity/cell_activation_cases.ts). */
async function cellActivationRows(gpu: Awaited<ReturnType<typeof createRuntime>>, cpu: Awaited<ReturnType<typeof createRuntime>>): Promise<PageRow[]> {
  const rows: PageRow[] = [];
  for (const c of cellActivationCases) {
    for (const path of ['step', 'persistent'] as const) {
      for (const r of await runCellActivationCase(cpu, gpu, path, c)) rows.push({ suite: 'cell_activation', group: c.name, path, name: r.name, ok: r.ok, maxAbs: r.maxAbs, detail: r.detail });
    }
  }
  return rows;
}
