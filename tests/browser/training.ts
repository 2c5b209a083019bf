// Browser training-parity page (driven by tests/browser_training.test.ts through
// runInBrowser): the training kernels' Node checks, in headless Chromium's WebGPU.
//   grad   gradients.json: backward of every cell vs PyTorch autograd, on both runtimes
//          (step backward for rnn/gru/lstm, state_grad_backward, matmul/colsum backward);
//   optim  optim.json: SGD / Adam / AdamW / RMSprop trajectories on both runtimes, and
//          awkward parameter sizes vs the float64 twin on the GPU;
//   clip   optim.json: clipGradNorm (sumsq_reduce, clip_scale) and clipGradValue;
//   loss   the loss and metric kernels vs their CPU twins (extreme logits, ignored rows);
//   model  whole-model gradients GPU vs CPU, many-to-many and many-to-one
//          (+ activation_backward, embedding_backward);
//   curve  20 epochs of the char model on both runtimes, loss curve vs loss curve.
// Runtimes come from the public API: createRuntime() uses navigator.gpu here.
// A case that throws becomes a failing row of its group, so one bad kernel does not
// hide the rest.
import { ValueError, createRuntime, type Runtime } from '../../src/index';
import gradients from '../fixtures/gradients.json';
import optim from '../fixtures/optim.json';
import { runGradCases, type GradCase, type GradRow } from '../parity/grad_cases';
import { ignoredRowCases, lossCases } from '../parity/loss_cases';
import { runLossCurveCase } from '../parity/loss_curve_cases';
import { runModelGradCase } from '../parity/model_grad_cases';
import {
  AWKWARD_CONFIGS,
  runClipGradNormCase,
  runClipGradNormLarge,
  runClipGradValueCase,
  runOptimAwkwardSizes,
  runOptimTrajectory,
  type OptimFixtures,
} from '../parity/optim_cases';

export type TrainingGroup = 'grad' | 'optim' | 'clip' | 'loss' | 'model' | 'curve';

/** A result row, tagged with the group that produced it. */
export interface TrainingRow {
  group: TrainingGroup;
  /** The runtime checked: 'webgpu', 'cpu', or 'webgpu vs cpu' for GPU-vs-CPU comparisons. */
  backend: string;
  /** A finer label for the per-group maxima: the cell, the loss, the model shape. */
  sub: string;
  name: string;
  ok: boolean;
  /** The row's relative error (see each case module); null after JSON when NaN. */
  relErr: number;
  detail: string;
  /** A Keras v1 GRU case the GPU refused with a ValueError (its backward kernel is pending). */
  pending?: boolean;
}

export interface TrainingPageResult {
  backend: string;
  cpuBackend: string;
  adapter: string;
  rows: TrainingRow[];
  /** Milliseconds per group, for the log. */
  ms: Partial<Record<TrainingGroup, number>>;
}

const gradCases = gradients.cases as unknown as GradCase[];
const optimFx = optim as unknown as OptimFixtures;

/** The cell label runGradCases uses. */
const cellName = (c: GradCase) => (c.cell === 'rnn' ? `rnn_${c.nonlinearity}` : c.cell === 'gru' && !c.resetAfter ? 'gru_keras_v1' : c.cell);

const message = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

function gradRows(rows: GradRow[], backend: string): TrainingRow[] {
  return rows.map((r) => ({ group: 'grad', backend, sub: r.cell, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail }));
}

/** gradients.json on one runtime, case by case. */
async function gradGroup(rt: Runtime): Promise<TrainingRow[]> {
  const out: TrainingRow[] = [];
  for (const c of gradCases) {
    try {
      out.push(...gradRows(await runGradCases(rt, [c]), rt.backend));
    } catch (err) {
      // GPU training of the Keras v1 GRU (resetAfter false) is being added: until then
      // the GPU refuses it with a ValueError. Accept that; once it runs, its rows above
      // must be within tolerance like every other case.
      const pending = rt.backend === 'webgpu' && c.cell === 'gru' && !c.resetAfter && err instanceof ValueError;
      out.push({ group: 'grad', backend: rt.backend, sub: cellName(c), name: `${c.name}${pending ? ' refused (kernel pending)' : ''}`, ok: pending, relErr: pending ? 0 : Infinity, detail: message(err), ...(pending ? { pending } : {}) });
    }
  }
  return out;
}

async function optimGroup(gpu: Runtime, cpu: Runtime): Promise<TrainingRow[]> {
  const out: TrainingRow[] = [];
  for (const rt of [gpu, cpu]) {
    for (const cfg of optimFx.optimizers) {
      const { rows } = await runOptimTrajectory(rt, optimFx, cfg);
      out.push(...rows.map((r) => ({ group: 'optim' as const, backend: rt.backend, sub: cfg.optimizer, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail })));
    }
  }
  for (const cfg of optimFx.optimizers.filter((c) => AWKWARD_CONFIGS.includes(c.name))) {
    const { rows } = await runOptimAwkwardSizes(gpu, cfg);
    out.push(...rows.map((r) => ({ group: 'optim' as const, backend: 'webgpu', sub: `${cfg.optimizer} awkward sizes`, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail })));
  }
  return out;
}

async function clipGroup(gpu: Runtime, cpu: Runtime): Promise<TrainingRow[]> {
  const out: TrainingRow[] = [];
  const push = (rt: Runtime, sub: string, rows: { name: string; ok: boolean; relErr: number; detail: string }[]) =>
    out.push(...rows.map((r) => ({ group: 'clip' as const, backend: rt.backend, sub, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail })));
  for (const rt of [gpu, cpu]) {
    for (const c of optimFx.clipGradNorm) push(rt, 'clipGradNorm', (await runClipGradNormCase(rt, c)).rows);
    push(rt, 'clipGradValue', (await runClipGradValueCase(rt, optimFx.clipGradValue)).rows);
  }
  push(gpu, 'clipGradNorm large', (await runClipGradNormLarge(gpu)).rows);
  return out;
}

async function lossGroup(gpu: Runtime, cpu: Runtime): Promise<TrainingRow[]> {
  const out: TrainingRow[] = [];
  for (const c of lossCases) {
    out.push(...(await c.run(gpu)).map((r) => ({ group: 'loss' as const, backend: 'webgpu', sub: r.group, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail })));
  }
  for (const rt of [gpu, cpu]) {
    for (const c of ignoredRowCases) {
      out.push(...(await c.run(rt)).map((r) => ({ group: 'loss' as const, backend: rt.backend, sub: r.group, name: r.name, ok: r.ok, relErr: r.relErr, detail: r.detail })));
    }
  }
  return out;
}

async function modelGroup(gpu: Runtime, cpu: Runtime): Promise<TrainingRow[]> {
  const out: TrainingRow[] = [];
  for (const [lastOnly, keras] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const sub = (lastOnly ? 'many-to-one' : 'many-to-many') + (keras ? ' keras' : '');
    const r = await runModelGradCase(gpu, cpu, lastOnly, keras);
    const base = { group: 'model' as const, backend: 'webgpu vs cpu', sub, relErr: 0 };
    const sameNames = r.gpuNames.join() === r.cpuNames.join();
    out.push({ ...base, name: `${sub}: same parameters on both runtimes`, ok: sameNames, detail: sameNames ? `${r.gpuNames.length} parameters` : `gpu ${r.gpuNames.join(', ')} vs cpu ${r.cpuNames.join(', ')}` });
    out.push({ ...base, name: `${sub}: no readback during record + backward`, ok: r.readbacksDuringBackward === 0, detail: `${r.readbacksDuringBackward} readbacks` });
    out.push(...r.rows.map((row) => ({ ...base, name: `${sub} ${row.name}`, ok: row.ok, relErr: row.relErr, detail: row.detail })));
    out.push(...r.normRows.map((row) => ({ ...base, sub: `${sub} norms`, name: `${sub} ${row.name}`, ok: row.ok, relErr: row.relErr, detail: row.detail })));
  }
  return out;
}

async function curveGroup(gpu: Runtime, cpu: Runtime): Promise<TrainingRow[]> {
  const r = await runLossCurveCase(gpu, cpu);
  return r.rows.map((row) => ({ group: 'curve', backend: 'webgpu vs cpu', sub: 'char model', name: row.name, ok: row.ok, relErr: row.relErr, detail: row.detail }));
}

export async function run(): Promise<TrainingPageResult> {
  const gpu = await createRuntime();
  const cpu = await createRuntime({ backend: 'cpu' });
  const rows: TrainingRow[] = [];
  const ms: TrainingPageResult['ms'] = {};
  const groups: [TrainingGroup, () => Promise<TrainingRow[]>][] = [
    ['grad', async () => [...(await gradGroup(gpu)), ...(await gradGroup(cpu))]],
    ['optim', () => optimGroup(gpu, cpu)],
    ['clip', () => clipGroup(gpu, cpu)],
    ['loss', () => lossGroup(gpu, cpu)],
    ['model', () => modelGroup(gpu, cpu)],
    ['curve', () => curveGroup(gpu, cpu)],
  ];
  try {
    for (const [group, runGroup] of groups) {
      const t0 = performance.now();
      try {
        rows.push(...(await runGroup()));
      } catch (err) {
        rows.push({ group, backend: '?', sub: 'error', name: `${group}: the group threw`, ok: false, relErr: Infinity, detail: `${message(err)}\n${err instanceof Error ? err.stack : ''}` });
      }
      ms[group] = Math.round(performance.now() - t0);
    }
    return { backend: gpu.backend, cpuBackend: cpu.backend, adapter: gpu.adapterName, rows, ms };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}
