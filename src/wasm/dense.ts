// Dense (x·Wᵀ + b, then an activation) on the wasm backend's GEMM kernel. The float64
// twins are matmulBiasRef (forward) and Dense's own reference loops (backward,
// src/layers/dense.ts), checked in tests/parity/wasm_cases.ts.
//   forward   y (M, N) = act(x (M, K) · W (N, K)ᵀ + b)          gemmNT, activation fused
//   backward  dW (N, K) += daᵀ·x, db += Σ_m da, dx (M, K) = da·W   GEMMs over transposed copies
// The activation's derivative (da = dy ⊙ act'(y)) stays in JS: O(M·N) against O(M·N·K).
import type { ActivationName } from '../reference/math';
import { pad4, type WasmEngine } from './engine';

/** W padded to (Np, Kp), its transpose (Kp, Np) and b (Np), in wasm memory. */
export interface PackedDense {
  w: number;
  wT: number;
  b: number;
}

const ACT: Record<ActivationName, number> = { none: 0, relu: 1, sigmoid: 2, tanh: 3 };

export function packDense(eng: WasmEngine, weight: Float32Array, bias: Float32Array, N: number, K: number): PackedDense {
  const Np = pad4(N);
  const Kp = pad4(K);
  const made: number[] = [];
  try {
    for (const n of [Np * Kp, Kp * Np, Np]) made.push(eng.alloc(n));
    const [w, wT, b] = made;
    eng.write(w, Kp, weight, N, K);
    eng.write(b, Np, bias, 1, N);
    eng.k.transpose(Np, Kp, w, Kp, wT, Np);
    return { w, wT, b };
  } catch (e) {
    for (const p of made) eng.release(p);
    throw e;
  }
}

export function freeDense(eng: WasmEngine, p: PackedDense): void {
  for (const b of [p.w, p.wT, p.b]) eng.release(b);
}

export function denseForwardWasm(eng: WasmEngine, p: PackedDense, x: ArrayLike<number>, M: number, N: number, K: number, act: ActivationName): Float64Array {
  const Np = pad4(N);
  const Kp = pad4(K);
  const sc = eng.scope();
  try {
    const px = sc.alloc(M * Kp);
    const py = sc.alloc(M * Np);
    eng.write(px, Kp, x, M, K);
    eng.gemm(M, Np, Kp, px, Kp, p.w, Kp, py, Np, 0, 0, p.b, ACT[act]);
    return eng.read(py, Np, M, N, new Float64Array(M * N));
  } finally {
    sc.dispose();
  }
}

/** Accumulates dW (N, K) and db (N) into gW, gB (float64, PyTorch layout) and returns dx (M, K). */
export function denseBackwardWasm(eng: WasmEngine, p: PackedDense, x: ArrayLike<number>, da: ArrayLike<number>, M: number, N: number, K: number, gW: Float64Array, gB: Float64Array): Float64Array {
  const Np = pad4(N);
  const Kp = pad4(K);
  const Mp = pad4(M);
  const sc = eng.scope();
  try {
    const px = sc.alloc(M * Kp);
    const pda = sc.alloc(M * Np);
    eng.write(px, Kp, x, M, K);
    eng.write(pda, Np, da, M, N);
    const xT = sc.alloc(Kp * Mp);
    const daT = sc.alloc(Np * Mp);
    eng.k.transpose(M, Kp, px, Kp, xT, Mp);
    eng.k.transpose(M, Np, pda, Np, daT, Mp);
    const dW = sc.alloc(Np * Kp);
    const db = sc.alloc(Np);
    const dx = sc.alloc(M * Kp);
    eng.gemm(Np, Kp, Mp, daT, Mp, xT, Mp, dW, Kp, 0, 0, 0, 0);
    eng.k.rowSumAdd(Np, Mp, daT, Mp, db);
    eng.gemm(M, Kp, Np, pda, Np, p.wT, Np, dx, Kp, 0, 0, 0, 0);
    const m = eng.f32();
    for (let n = 0; n < N; n++) {
      const row = (dW >>> 2) + n * Kp;
      for (let k = 0; k < K; k++) gW[n * K + k] += m[row + k];
      gB[n] += m[(db >>> 2) + n];
    }
    return eng.read(dx, Kp, M, K, new Float64Array(M * K));
  } finally {
    sc.dispose();
  }
}
