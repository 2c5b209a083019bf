// CPU twins of the loss and metric kernels (mse_loss, bce_loss, softmax_xent_loss,
// mean_reduce, grad_scale, binary_accuracy, categorical_accuracy), float64, written
// from the formulas: each returns the mean and ∂(mean)/∂input in PyTorch's
// reduction='mean' convention. Inputs are assumed validated (src/training/losses.ts).

export interface LossRef {
  loss: number;
  grad: Float64Array;
}

/** Which rows of a (R, C) problem count: label ≠ ignoreIndex and, if given, mask[r] ≠ 0. */
export interface RowSelection {
  ignoreIndex: number;
  mask?: ArrayLike<number> | null;
}

const kept = (labels: ArrayLike<number>, sel: RowSelection, r: number): boolean =>
  labels[r] !== sel.ignoreIndex && (!sel.mask || sel.mask[r] !== 0);

/** loss = mean (pred − target)², grad = 2 (pred − target) / n. */
export function mseLossRef(pred: ArrayLike<number>, target: ArrayLike<number>): LossRef {
  const n = pred.length;
  const grad = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i] - target[i];
    sum += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: sum / n, grad };
}

/** log(1 + e^−|x|) + max(x, 0) − x·y: BCE on a logit x, never overflowing. */
function bceLogitTerm(x: number, y: number): number {
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
}

/** σ(x) computed so that exp never sees a positive argument. */
function sigmoidStable(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Binary cross-entropy, mean over all elements.
 * Probabilities (PyTorch BCELoss): −(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)),
 *   NaN (loss and that gradient) for a p outside [0, 1], where PyTorch raises;
 *   grad = (p − y) / max(p(1 − p), 1e-12) / n (PyTorch's backward, EPSILON 1e-12).
 * Logits (BCEWithLogitsLoss): max(x, 0) − x·y + log(1 + e^−|x|), grad = (σ(x) − y) / n.
 */
export function bceLossRef(pred: ArrayLike<number>, target: ArrayLike<number>, fromLogits: boolean): LossRef {
  const n = pred.length;
  const grad = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = pred[i];
    const y = target[i];
    if (fromLogits) {
      sum += bceLogitTerm(x, y);
      grad[i] = (sigmoidStable(x) - y) / n;
    } else if (!(x >= 0 && x <= 1)) {
      // a probability outside [0, 1]: PyTorch raises; NaN here, as on the GPU
      sum = NaN;
      grad[i] = NaN;
    } else {
      const logP = Math.max(Math.log(x), -100);
      const log1mP = Math.max(Math.log1p(-x), -100);
      sum += -(y * logP + (1 - y) * log1mP);
      grad[i] = (x - y) / Math.max(x * (1 - x), 1e-12) / n;
    }
  }
  return { loss: sum / n, grad };
}

/**
 * Softmax cross-entropy of logits (R, C) against integer labels (R), mean over kept
 * rows: loss_r = log Σ_c e^{x_rc} − x_r,label (through the row maximum), grad_r =
 * (softmax_r − onehot_r) / count; ignored rows add nothing and get a zero gradient.
 * No kept row: loss 0, grad 0 (PyTorch would give 0/0 = NaN).
 */
export function softmaxXentRef(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number, sel: RowSelection): LossRef & { count: number } {
  const R = labels.length;
  const grad = new Float64Array(R * C);
  let sum = 0;
  let count = 0;
  for (let r = 0; r < R; r++) {
    if (!kept(labels, sel, r)) continue;
    const base = r * C;
    const label = labels[r];
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[base + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[base + c] - m);
    sum += m - logits[base + label] + Math.log(s);
    for (let c = 0; c < C; c++) grad[base + c] = Math.exp(logits[base + c] - m) / s - (c === label ? 1 : 0);
    count++;
  }
  if (count > 0) for (let i = 0; i < grad.length; i++) grad[i] /= count;
  return { loss: count > 0 ? sum / count : 0, grad, count };
}

/** Fraction of elements where (pred ≥ 0.5, or logit ≥ 0) agrees with (target ≥ 0.5). */
export function binaryAccuracyRef(pred: ArrayLike<number>, target: ArrayLike<number>, fromLogits: boolean): number {
  const threshold = fromLogits ? 0 : 0.5;
  let hits = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] >= threshold === target[i] >= 0.5) hits++;
  return hits / pred.length;
}

/** Fraction of kept rows whose first argmax equals the label (0 when no row is kept). */
export function categoricalAccuracyRef(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number, sel: RowSelection): number {
  let hits = 0;
  let count = 0;
  for (let r = 0; r < labels.length; r++) {
    if (!kept(labels, sel, r)) continue;
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[r * C + c] > logits[r * C + best]) best = c;
    if (best === labels[r]) hits++;
    count++;
  }
  return count > 0 ? hits / count : 0;
}

/** exp(mean softmax cross-entropy over kept rows); 1 when no row is kept. */
export function perplexityRef(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number, sel: RowSelection): number {
  return Math.exp(softmaxXentRef(logits, labels, C, sel).loss);
}
