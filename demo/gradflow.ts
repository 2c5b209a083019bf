// The experiment of the demo's gradient-flow panel (issue 11), through the
// public API only: the same memory task for each cell, with the loss on the
// last step only, so ‖∂L/∂h_t‖ (backward's stepGradNorms) measures how much of
// the error signal reaches step t. Runs in the worker (worker.ts).
//
// The task: x is (B, T, 1), x[b, 0] = ±1 and every later step small noise; the
// target is x[b, 0], read from the last hidden state through Dense(1), MSE.
// A model that learns it must carry step 0 through T − 1 steps.
//
// Per cell: the recurrent weights W_hh are multiplied by `scale` after the
// default init (PyTorch's uniform ±1/√H, spectral radius about 0.58, so a
// SimpleRNN's signal fades by about 0.58 a step at scale 1 and grows past
// scale ≈ 1.7), and the LSTM's forget-gate bias is set to `forgetBias` (1 as
// Keras's unit_forget_bias: the gate starts at σ(1) ≈ 0.73 open; at 0 it is
// σ(0) = 0.5 and the LSTM's ‖∂L/∂h_t‖ fades about as fast as the SimpleRNN's);
// then SGD runs `steps` updates on one
// fixed batch, each after a backward pass that records ‖∂L/∂h_t‖ for every t,
// and one last backward pass measures where the weights ended. With `clip`, a
// second run from the same weights clips the global gradient norm
// (clipGradNorm) before each update. Clipping rescales the weight gradients
// after backward: it cannot change the profile of a backward pass (the first
// profile is the same in both runs); what it changes is how far each update
// moves the weights, so the later profiles and the loss.
import { SGD, clipGradNorm, mseLoss, type Recurrent, type Runtime } from '../src/index';
import type { CellName, GradFlowArgs, GradFlowCellResult, GradFlowRun } from './protocol';

/** Sequences per batch. */
export const GRAD_BATCH = 8;

/** A small seeded generator (mulberry32): the same task on every backend and run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The memory task: x (B, T, 1) with x[b, 0] = ±1 and noise in ±0.1 after it; y (B, 1) = x[b, 0]. */
export function memoryTask(B: number, T: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const x = new Float32Array(B * T); // (B, T, 1)
  const y = new Float32Array(B); // (B, 1)
  for (let b = 0; b < B; b++) {
    const sign = r() < 0.5 ? -1 : 1;
    x[b * T] = sign;
    y[b] = sign;
    for (let t = 1; t < T; t++) x[b * T + t] = 0.2 * (r() - 0.5);
  }
  return { x, y };
}

function layer(rt: Runtime, cell: CellName, hidden: number, seed: number): Recurrent {
  const opts = { inputSize: 1, hiddenSize: hidden, seed };
  return cell === 'lstm' ? rt.lstm(opts) : cell === 'gru' ? rt.gru(opts) : rt.simpleRNN(opts);
}

export interface GradFlowHooks {
  /** After each backward pass. */
  onPass?: () => void | Promise<void>;
  /** Checked before each pass: true ends the run (what it measured is kept). */
  stopped?: () => boolean;
}

/** One run of one cell: `steps` SGD updates, `steps + 1` backward passes, each with its ‖∂L/∂h_t‖. */
async function trainRun(rt: Runtime, cell: CellName, a: GradFlowArgs, clip: boolean, hooks: GradFlowHooks): Promise<GradFlowRun> {
  const seed = a.seed ?? 1;
  const { x, y } = memoryTask(GRAD_BATCH, a.seqLen, seed);
  const rnn = layer(rt, cell, a.hidden, seed + 1);
  const sd = rnn.torchStateDict();
  for (const k of Object.keys(sd)) if (k.startsWith('weight_hh')) sd[k].data.forEach((v, i, d) => (d[i] = v * a.scale));
  if (cell === 'lstm') {
    // PyTorch's gate rows are i, f, g, o: the forget gate's bias is rows H … 2H − 1 of b_ih + b_hh
    sd.bias_ih_l0.data.fill(a.forgetBias, a.hidden, 2 * a.hidden);
    sd.bias_hh_l0.data.fill(0, a.hidden, 2 * a.hidden);
  }
  rnn.loadTorchStateDict(sd);
  const model = rt.sequential([rnn, rt.dense({ inputSize: a.hidden, units: 1, seed: seed + 2 })]);
  const opt = new SGD(model.parameters(), { lr: a.lr });
  const run: GradFlowRun = { profiles: [], losses: [], gradNorms: [], diverged: null };
  try {
    for (let k = 0; k <= a.steps && !hooks.stopped?.(); k++) {
      const { output, tape } = await model.record(x, { batch: GRAD_BATCH, seqLen: a.seqLen });
      let norms: Float32Array;
      let loss: number;
      try {
        const l = await mseLoss(rt, output, y);
        try {
          loss = (await l.loss.read())[0];
          const { stepGradNorms } = await model.backward(tape, l.grad, { stepGradNorms: true });
          const n = stepGradNorms!.get(rnn)!; // (1, T)
          norms = Float32Array.from(await n.read());
          n.dispose();
        } finally {
          l.loss.dispose();
          l.grad.dispose();
        }
      } finally {
        output.dispose();
      }
      run.losses.push(loss);
      run.profiles.push(Array.from(norms));
      await hooks.onPass?.();
      if (!Number.isFinite(loss) || !norms.every(Number.isFinite)) {
        run.diverged = `the ${Number.isFinite(loss) ? 'gradient' : 'loss'} is no longer finite at pass ${k}`;
        break;
      }
      if (k === a.steps) break; // the last pass only measures
      // the norm before clipping; without clipping, a bound no gradient reaches (scale 1)
      const g = await clipGradNorm(model.parameters(), clip ? a.clipNorm : 1e30, { returnNorm: true });
      run.gradNorms.push(g);
      if (!Number.isFinite(g)) {
        run.diverged = `the gradient norm is ${g} at update ${k}`;
        break;
      }
      try {
        await opt.step();
      } catch (err) {
        // the CPU reference refuses an update that overflows float32 weights
        run.diverged = `update ${k} was refused: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      model.zeroGrad();
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  return run;
}

/** The experiment for every chosen cell: without clipping, and (with a.clip) with it, from the same start. */
export async function gradFlow(rt: Runtime, a: GradFlowArgs, hooks: GradFlowHooks = {}): Promise<GradFlowCellResult[]> {
  const out: GradFlowCellResult[] = [];
  for (const cell of a.cells) {
    if (hooks.stopped?.()) break;
    const noClip = await trainRun(rt, cell, a, false, hooks);
    const clipped = a.clip && !hooks.stopped?.() ? await trainRun(rt, cell, a, true, hooks) : null;
    out.push({ cell, noClip, clipped });
  }
  return out;
}

/** ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ of a profile: below 1 the signal fades going back in time, above 1 it grows. */
export const flowRatio = (p: readonly number[]): number => p[0] / p[p.length - 1];
