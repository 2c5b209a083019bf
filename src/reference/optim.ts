// CPU twins of the optimizer kernels: plain float64 loops over one flat
// parameter, written from torch.optim's documented algorithms (the pseudo-code
// in the docs of SGD, Adam, AdamW, RMSprop, clip_grad_norm_, clip_grad_value_),
// not from the WGSL. Values may be Float64Array (exact float64 trajectories, as
// the tests use) or Float32Array (a CPU layer's weights: each step's result is
// rounded to f32 when stored). Optimizer state is always float64.
//
// Notation (torch docs): θ parameter, g gradient, γ lr, λ weight decay,
// μ momentum, τ dampening, t the 1-based step.

export type ValueArray = Float32Array | Float64Array;

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * torch.optim.SGD, one step:
 *   g ← g + λθ                                    (λ ≠ 0)
 *   b ← g  (t = 1);  b ← μb + (1 − τ)g  (t > 1)     (μ ≠ 0)
 *   g ← g + μb (nesterov)  or  g ← b
 *   θ ← θ − γg
 * `buf` is null when μ = 0.
 */
export function sgdStepRef(theta: ValueArray, grad: ArrayLike<number>, buf: Float64Array | null, h: SgdHyper, t: number): void {
  for (let i = 0; i < theta.length; i++) {
    let g = grad[i];
    if (h.weightDecay !== 0) g += h.weightDecay * theta[i];
    if (h.momentum !== 0 && buf) {
      buf[i] = t === 1 ? g : h.momentum * buf[i] + (1 - h.dampening) * g;
      g = h.nesterov ? g + h.momentum * buf[i] : buf[i];
    }
    theta[i] = theta[i] - h.lr * g;
  }
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: θ ← θ − γλθ before the step; Adam: g ← g + λθ. */
  decoupled: boolean;
}

/**
 * torch.optim.Adam / AdamW (amsgrad = false), one step:
 *   AdamW: θ ← θ − γλθ          Adam: g ← g + λθ   (λ ≠ 0)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
 *   θ ← θ − γ·m̂ / (√v̂ + ε)
 * m and v start at zero.
 */
export function adamStepRef(theta: ValueArray, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamHyper, t: number): void {
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  for (let i = 0; i < theta.length; i++) {
    let th = theta[i];
    let g = grad[i];
    if (h.weightDecay !== 0) {
      if (h.decoupled) th = th - h.lr * h.weightDecay * th;
      else g += h.weightDecay * th;
    }
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    theta[i] = th - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
  }
}

export interface RmspropHyper {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
}

/**
 * torch.optim.RMSprop (centered = false), one step:
 *   g ← g + λθ                                   (λ ≠ 0)
 *   v ← α·v + (1 − α)·g²
 *   μ > 0:  b ← μb + g / (√v + ε);  θ ← θ − γb
 *   else:   θ ← θ − γ·g / (√v + ε)
 * v and b start at zero; `buf` is null when μ = 0.
 */
export function rmspropStepRef(theta: ValueArray, grad: ArrayLike<number>, v: Float64Array, buf: Float64Array | null, h: RmspropHyper): void {
  for (let i = 0; i < theta.length; i++) {
    let g = grad[i];
    if (h.weightDecay !== 0) g += h.weightDecay * theta[i];
    v[i] = h.alpha * v[i] + (1 - h.alpha) * g * g;
    const avg = Math.sqrt(v[i]) + h.eps;
    if (h.momentum > 0 && buf) {
      buf[i] = h.momentum * buf[i] + g / avg;
      theta[i] = theta[i] - h.lr * buf[i];
    } else {
      theta[i] = theta[i] - (h.lr * g) / avg;
    }
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ (norm_type 2): the L2 norm of all gradients
 * together, then every gradient ·= min(1, maxNorm / (norm + 1e-6)).
 * Returns the norm before clipping.
 */
export function clipGradNormRef(grads: Float64Array[], maxNorm: number): number {
  let sumsq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sumsq += g[i] * g[i];
  const norm = Math.sqrt(sumsq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}

/** torch.nn.utils.clip_grad_value_: every gradient clamped to [−clipValue, clipValue]. */
export function clipGradValueRef(grads: Float64Array[], clipValue: number): void {
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = Math.min(clipValue, Math.max(-clipValue, g[i]));
}
