// A short training run on both runtimes, loss curve against loss curve, shared by
// the Node test (model_grad.test.ts) and the headless-Chrome page
// (tests/browser/training.ts). The character model of tests/learning.test.ts
// (Embedding → LSTM → Dense, Adam lr 0.02, the seed sentences as 3 sequences of
// 14 steps, one batch per epoch) is built from the same seeds on the GPU and on
// the CPU reference and trained by fit() for CURVE_EPOCHS epochs; every epoch's
// mean loss is compared. This exercises the whole training path per step:
// forward, softmax cross-entropy, the step-backward kernels, matmul / colsum /
// embedding backward and Adam, twenty times in a row, so errors that compound
// through training show up here and not in the one-step gradient checks.
import { Adam, type Runtime } from '../../src/index';

export const CURVE_EPOCHS = 20;

// Tolerance: |gpu − cpu| / |cpu| ≤ 1e-4 per epoch. Measured in Node (Dawn on
// SwiftShader) and in Chrome (SwiftShader), the same: from 2e-8 at epoch 0 growing
// to 4.3e-7 by epoch 19 as the loss falls from 2.80 to 0.49 (float32 GPU vs float64
// CPU; both curves print the same to 4 digits), so the bar leaves ~200× headroom for
// the error to grow with training while still catching a wrong update or gradient.
export const CURVE_RTOL = 1e-4;

export interface CurveRow {
  /** 'epoch 0' .. 'epoch 19' */
  name: string;
  ok: boolean;
  /** |gpu − cpu| / |cpu| */
  relErr: number;
  detail: string;
}

export interface CurveResult {
  gpu: number[];
  cpu: number[];
  rows: CurveRow[];
}

// The seed sentences, shared with tests/learning.test.ts.
export const SENTENCES = ['hey how are you', 'good i am fine', 'have a nice day'];

/** Next-character data: x = chars [0, T−1), y = chars [1, T) of each padded sentence. */
export function charData(): { chars: string[]; x: number[]; y: number[]; seqLen: number } {
  const T = Math.max(...SENTENCES.map((s) => s.length));
  const padded = SENTENCES.map((s) => s.padEnd(T, ' '));
  const chars = [...new Set(padded.join(''))].sort();
  const x: number[] = [];
  const y: number[] = [];
  for (const s of padded) {
    for (let t = 0; t < T - 1; t++) {
      x.push(chars.indexOf(s[t]));
      y.push(chars.indexOf(s[t + 1]));
    }
  }
  return { chars, x, y, seqLen: T - 1 };
}

/** Per-epoch training loss of the char model on one runtime. */
export async function charModelCurve(rt: Runtime, epochs = CURVE_EPOCHS): Promise<number[]> {
  const d = charData();
  const V = d.chars.length;
  const model = rt.sequential([
    rt.embedding({ vocabSize: V, dim: 12, seed: 1 }),
    rt.lstm({ inputSize: 12, hiddenSize: 32, returnSequences: true, seed: 2 }),
    rt.dense({ inputSize: 32, units: V, seed: 3 }),
  ]);
  const opt = new Adam(model.parameters(), { lr: 0.02 });
  try {
    const hist = await model.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs, batchSize: 3 });
    return hist.history.loss;
  } finally {
    opt.dispose();
    model.dispose();
  }
}

/** Trains the char model on both runtimes and compares the curves epoch by epoch. */
export async function runLossCurveCase(gpu: Runtime, cpu: Runtime, epochs = CURVE_EPOCHS): Promise<CurveResult> {
  const g = await charModelCurve(gpu, epochs);
  const c = await charModelCurve(cpu, epochs);
  const rows: CurveRow[] = [];
  for (let e = 0; e < Math.max(g.length, c.length); e++) {
    const rel = Math.abs(g[e] - c[e]) / Math.abs(c[e]);
    // `rel <= tol` is false for NaN and for a missing epoch (undefined → NaN).
    const ok = rel <= CURVE_RTOL;
    rows.push({
      name: `epoch ${e}`,
      ok,
      relErr: Number.isNaN(rel) ? Infinity : rel,
      detail: `gpu ${g[e]} vs cpu ${c[e]}: rel ${rel.toExponential(2)}${ok ? '' : ` > ${CURVE_RTOL}`}`,
    });
  }
  return { gpu: g, cpu: c, rows };
}
