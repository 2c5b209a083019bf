// Gradients through a whole Sequential model (Embedding → bidirectional GRU →
// LSTM → Dense), GPU against the CPU reference, shared by the Node test
// (model_grad.test.ts) and the headless-Chrome page (tests/browser/training.ts).
// One backward of L = Σ output ⊙ R runs every training kernel a model uses: Dense's
// activation_backward, matmul_backward and colsum_backward, the GRU and LSTM
// step-backward kernels and state_grad_backward through two stacked layers (one
// bidirectional, with padded lengths), and embedding_backward. Both shapes of model:
// many-to-many (the LSTM returns sequences) and many-to-one (its last step only).
// And a Keras-flavoured model: Embedding with maskZero on pre-padded ids (the
// Keras step mask through every recurrent kernel's backward), hard-sigmoid gates
// (Keras 2's in the GRU, Keras 3's in the LSTM).
import { Recurrent, type Runtime, type Sequential } from '../../src/index';
import { compare } from './compare';

/** Token ids (B, T) = (2, 6); the first sequence has 4 valid steps. */
export const ids = [1, 5, 6, 3, 0, 2, 6, 6, 2, 4, 4, 1];
export const opts = { batch: 2, seqLen: 6, lengths: [4, 6] };
/** The Keras variant's ids: pre-padded with 0 (masked), and a hole. */
export const kerasIds = [0, 0, 5, 6, 3, 2, 6, 6, 0, 4, 4, 1];
export const kerasOpts = { batch: 2, seqLen: 6 };

// float32 GPU vs float64 CPU: gradients are O(1) here; 1e-5 abs + 1e-4 rel.
export const MODEL_GRAD_TOL = { atol: 1e-5, rtol: 1e-4 };

export function build(rt: Runtime, lastOnly: boolean, act: 'tanh' | 'relu' | 'sigmoid' | 'none' = 'tanh', keras = false): Sequential {
  if (keras) {
    return rt.sequential([
      rt.embedding({ vocabSize: 7, dim: 3, seed: 1, maskZero: true }),
      rt.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true, returnSequences: true, seed: 2, recurrentActivation: 'hardSigmoid' }),
      rt.lstm({ inputSize: 8, hiddenSize: 3, returnSequences: !lastOnly, seed: 3, recurrentActivation: 'hardSigmoidKeras3' }),
      rt.dense({ inputSize: 3, units: 2, activation: act, seed: 4 }),
    ]);
  }
  return rt.sequential([
    rt.embedding({ vocabSize: 7, dim: 3, seed: 1 }),
    rt.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true, returnSequences: true, seed: 2 }),
    rt.lstm({ inputSize: 8, hiddenSize: 3, returnSequences: !lastOnly, seed: 3 }),
    rt.dense({ inputSize: 3, units: 2, activation: act, seed: 4 }),
  ]);
}

/** Deterministic values in (−1, 1) (Park–Miller). */
export function rand(n: number, seed: number): Float64Array {
  const a = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    a[i] = (s / 2147483647) * 2 - 1;
  }
  return a;
}

export interface ModelGradRow {
  /** 'many-to-many' | 'many-to-one' */
  group: string;
  /** `d${parameter name}` */
  name: string;
  ok: boolean;
  /** max |gpu − cpu| / max |cpu| over the tensor */
  relErr: number;
  maxAbs: number;
  detail: string;
}

export interface ModelGradResult {
  rows: ModelGradRow[];
  /** GPU→CPU copies during the GPU model's record + backward (0: it stays on the GPU). */
  readbacksDuringBackward: number;
  gpuNames: string[];
  cpuNames: string[];
  /** ‖∂L/∂h_t‖ per recurrent layer (backward's stepGradNorms), GPU vs CPU: one row per layer. */
  normRows: ModelGradRow[];
}

/**
 * The model built from the same seeds on both runtimes (Dense 'relu'), one
 * record + backward with the same R on each, every parameter's gradient compared.
 * Frees everything it created on the GPU.
 */
export async function runModelGradCase(gpu: Runtime, cpu: Runtime, lastOnly: boolean, keras = false): Promise<ModelGradResult> {
  const group = (lastOnly ? 'many-to-one' : 'many-to-many') + (keras ? ' (Keras mask, hard sigmoid)' : '');
  const g = build(gpu, lastOnly, 'relu', keras);
  const c = build(cpu, lastOnly, 'relu', keras);
  const [x, o] = keras ? [kerasIds, kerasOpts] : [ids, opts];
  try {
    const R = rand(lastOnly ? 4 : 24, 9);
    const before = gpu.stats().readbacks;
    const rg = await g.record(x, o);
    g.zeroGrad();
    const gn = (await g.backward(rg.tape, Float32Array.from(R), { stepGradNorms: true })).stepGradNorms!;
    const readbacksDuringBackward = gpu.stats().readbacks - before;
    rg.output.dispose();
    const rc = await c.record(x, o);
    const cn = (await c.backward(rc.tape, R, { stepGradNorms: true })).stepGradNorms!;
    const normRows: ModelGradRow[] = [];
    for (const [i, layer] of g.layers.entries()) {
      if (!(layer instanceof Recurrent)) continue;
      const got = await gn.get(layer)!.read();
      const want = await cn.get(c.layers[i] as Recurrent)!.read();
      const cmp = compare(`stepGradNorms[layer ${i}]`, want, got, MODEL_GRAD_TOL);
      const maxRef = Math.max(1e-30, ...Array.from(want, Math.abs));
      normRows.push({ group, name: cmp.name, ok: cmp.ok, relErr: cmp.maxAbs / maxRef, maxAbs: cmp.maxAbs, detail: cmp.detail });
    }
    for (const t of [...gn.values(), ...cn.values()]) t.dispose();
    const pg = g.parameters();
    const pc = c.parameters();
    const rows: ModelGradRow[] = [];
    for (let i = 0; i < Math.min(pg.length, pc.length); i++) {
      const a = pg[i];
      const b = pc[i];
      if (a.kind !== 'webgpu' || b.kind !== 'cpu') throw new Error(`runModelGradCase: expected a webgpu and a cpu parameter, got ${a.kind} and ${b.kind}`);
      let got: ArrayLike<number> = await a.ctx.readback(a.grad, a.size);
      const [index, name] = [Number(a.name.split('.')[0]), a.name.split('.').slice(1).join('.')];
      const layer = g.layers[index];
      if (layer instanceof Recurrent) {
        // recurrent weights have their own GPU layout (W_hh transposed, LSTM gates
        // interleaved): compare through the public PyTorch-layout view
        got = (await layer.gradients())[name];
      }
      const cmp = compare(`d${a.name}`, b.grad, got, MODEL_GRAD_TOL);
      let maxRef = 0;
      for (const v of b.grad) maxRef = Math.max(maxRef, Math.abs(v));
      rows.push({ group, name: cmp.name, ok: cmp.ok, relErr: cmp.maxAbs / Math.max(maxRef, 1e-30), maxAbs: cmp.maxAbs, detail: cmp.detail });
    }
    return { rows, readbacksDuringBackward, gpuNames: pg.map((p) => p.name), cpuNames: pc.map((p) => p.name), normRows };
  } finally {
    g.dispose();
  }
}
