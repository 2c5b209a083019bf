// Float32 WebAssembly-SIMD (simd128) kernels of the wasm backend, in AssemblyScript.
// Compiled by scripts/build-wasm.mjs into src/wasm/kernels_wasm.js (base64, gitignored).
// The CPU float64 twins are the reference's own functions: matmulBiasRef / matmulRef
// (src/reference/matmul.ts) for gemmNT and gemmPk (W as panels), recurrenceRef (src/reference/recurrent.ts) for
// the step forwards, recurrenceBackwardRef (src/reference/recurrent_backward.ts) for
// the step backwards; tests/wasm_parity.test.ts checks each against them.
//
// Memory: the host (src/wasm/engine.ts) owns the linear memory and passes byte
// offsets; nothing here allocates. Every matrix is row-major float32 with a row
// stride (ld, in floats) that is a multiple of 4, and every size that a SIMD loop
// runs over (K of a GEMM, H of a cell) is padded by the host to a multiple of 4
// with zeros, so the loops have no scalar tails. Padded hidden units have zero
// weights and biases and so stay exactly 0 through every cell (h0 padded with 0).
//
// Sizes: B batch, T steps, Hp hidden size padded to 4, Gp = gates·Hp (gate q's
// rows/columns at [q·Hp, q·Hp + H)). Gate order is PyTorch's: LSTM (i, f, g, o),
// GRU (r, z, n).
//
// Layouts of the recurrence (one layer direction):
//   xg    (B, T, Gp)    x·W_ihᵀ + b_ih, from gemmNT
//   whhP  panels       W_hh (PyTorch's (Gp, Hp) layout, padded) as packPanels' (⌈Gp/16⌉, Hp, 16) panels;
//                       GRU reset_after = false: W_r,z's (2Hp rows) then W_n's (Hp rows), packed apart
//   whhT  (Hp, Gp)      its transpose: the step backward's da·W_hh reads rows contiguously
//   hs    (T+1, B, Hp)  state before step s at [s] (hs[0] = h0); cs likewise (LSTM)
//   valid (B, T) i32    1 = step t of sample b runs (lengths or a Keras mask)
//   out   (B, T, ldo)   this direction's outputs, columns [0, Hp) of each row
//   tape  (T, B, Gp)    gate activations per step s (LSTM i f g o, GRU r z n); ext (T, B, Hp):
//                       GRU reset_after: m = W_n h + b_n; GRU reset_after = false: r ⊙ h

// ---- numerics: stable exp-based sigmoid and tanh as in shaders/common.wgsl ----

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;

/**
 * e^z for z clamped to [−87, 87] (e^z stays a finite normal float: at most 6·10^37, so 1 + e
 * never overflows). Cephes expf's reduction z = n·ln 2 + r, |r| ≤ ln 2 / 2, with a degree-5
 * polynomial 1 + r + r²(c2 + c3 r + c4 r² + c5 r³) fitted for the least maximum relative
 * error on that interval (2.0·10⁻⁷ evaluated in float32; Cephes' degree 7 has 10⁻⁹, more than
 * float32 sigmoid/tanh can use), evaluated by Estrin's scheme: a short dependency chain, so
 * the out-of-order core overlaps the many activations of a step (Horner's chain made the
 * gate pass latency-bound). n = round(z·log2 e) with the 1.5·2^23 trick: adding it rounds to
 * an integer that the low mantissa bits then hold, so no float→int conversion is needed.
 * pmin/pmax, not min/max: wasm's min/max carry NaN/−0 rules that cost V8 several
 * instructions each; pmin/pmax are one minps/maxps (a NaN z still comes out NaN).
 */
// @ts-ignore: decorator
@inline function vexp(zIn: v128): v128 {
  const z = f32x4.pmin(f32x4.pmax(zIn, f32x4.splat(-87.0)), f32x4.splat(87.0));
  const magic = f32x4.splat(12582912.0); // 1.5·2^23
  const t = f32x4.add(f32x4.mul(z, f32x4.splat(LOG2E)), magic);
  const n = f32x4.sub(t, magic); // round(z·log2 e) as a float
  const r = f32x4.sub(f32x4.sub(z, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  const r2 = f32x4.mul(r, r);
  const lo = f32x4.add(f32x4.splat(EXP_C2), f32x4.mul(r, f32x4.splat(EXP_C3)));
  const hi = f32x4.add(f32x4.splat(EXP_C4), f32x4.mul(r, f32x4.splat(EXP_C5)));
  const p = f32x4.add(f32x4.add(f32x4.splat(1.0), r), f32x4.mul(r2, f32x4.add(lo, f32x4.mul(r2, hi))));
  // t's bits are 0x4B400000 + n: the exponent field of 2^n is (n + 127) << 23
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(p, scale);
}

// e^r ≈ 1 + r + r²(c2 + c3 r + c4 r² + c5 r³) on [−ln 2 / 2, ln 2 / 2] (see vexp)
const EXP_C2: f32 = 4.999923408e-1;
const EXP_C3: f32 = 1.6667114198e-1;
const EXP_C4: f32 = 4.1889995337e-2;
const EXP_C5: f32 = 8.3124665543e-3;

/**
 * Sigmoid 1/(1 + e^−x): with vexp's clamp e^−x is finite, so this is stable for every x
 * (exactly 1 for x ≳ 17, e^x's relative precision for x ≪ 0); no split on the sign needed.
 */
// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), vexp(f32x4.neg(x))));
}

/**
 * tanh through e = e^−2x: (1 − e)/(1 + e), stable for every x under vexp's clamp (±1 exactly
 * for |x| ≳ 9; near 0 the absolute error is float32's rounding of 1 − e, ~6·10⁻⁸).
 */
// @ts-ignore: decorator
@inline function vtanh(x: v128): v128 {
  const e = vexp(f32x4.mul(x, f32x4.splat(-2.0)));
  return f32x4.div(f32x4.sub(f32x4.splat(1.0), e), f32x4.add(f32x4.splat(1.0), e));
}

/** The gate activation: 0 sigmoid, 1 hard sigmoid clip(0.2x + 0.5, 0, 1) (Keras 2, tfjs), 2 Keras 3's clip(x/6 + 0.5, 0, 1). */
// @ts-ignore: decorator
@inline function vgate(kind: i32, x: v128): v128 {
  if (kind == 1) return f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.mul(x, f32x4.splat(0.2)), f32x4.splat(0.5)), f32x4.splat(0.0)), f32x4.splat(1.0));
  if (kind == 2) return f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.div(x, f32x4.splat(6.0)), f32x4.splat(0.5)), f32x4.splat(0.0)), f32x4.splat(1.0));
  return vsigmoid(x);
}

/** Its derivative from its output y: y(1 − y), or the hard sigmoids' slope strictly inside (0, 1), else 0. */
// @ts-ignore: decorator
@inline function vgateGrad(kind: i32, y: v128): v128 {
  if (kind == 0) return f32x4.mul(y, f32x4.sub(f32x4.splat(1.0), y));
  const inside = v128.and(f32x4.gt(y, f32x4.splat(0.0)), f32x4.lt(y, f32x4.splat(1.0)));
  return v128.and(f32x4.splat(kind == 1 ? <f32>0.2 : <f32>(1.0 / 6.0)), inside);
}

/** The cell activation (SimpleRNN's h, GRU's n, LSTM's g and act(c)): 0 tanh, 1 relu, 2 sigmoid, 3 linear. */
// @ts-ignore: decorator
@inline function vcell(kind: i32, x: v128): v128 {
  if (kind == 1) return f32x4.pmax(x, f32x4.splat(0));
  if (kind == 2) return vsigmoid(x);
  if (kind == 3) return x;
  return vtanh(x);
}

/** Its derivative from its output y: 1 − y², [y > 0] (0 at the kink, as PyTorch), y(1 − y), 1. */
// @ts-ignore: decorator
@inline function vcellGrad(kind: i32, y: v128): v128 {
  if (kind == 1) return v128.and(f32x4.gt(y, f32x4.splat(0)), f32x4.splat(1.0));
  if (kind == 2) return f32x4.mul(y, f32x4.sub(f32x4.splat(1), y));
  if (kind == 3) return f32x4.splat(1.0);
  return f32x4.sub(f32x4.splat(1), f32x4.mul(y, y));
}

/** Activation of Dense: 0 identity, 1 relu, 2 sigmoid, 3 tanh. */
// @ts-ignore: decorator
@inline function vactivate(kind: i32, x: v128): v128 {
  if (kind == 1) return f32x4.pmax(x, f32x4.splat(0.0));
  if (kind == 2) return vsigmoid(x);
  if (kind == 3) return vtanh(x);
  return x;
}

// ---- GEMM ----

/** [Σa0, Σa1, Σa2, Σa3]: the lane sums of four accumulators as one vector. */
// @ts-ignore: decorator
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

const MC: i32 = 32; // rows of `a` per cache block: 32 rows of KC floats (32 KiB) stay in L1/L2 while every 4-row block of b passes over them
const KC: i32 = 256; // K per pass: longer sums (the weight gradients over all steps) run as accumulating passes

/**
 * One row: c (N) = src + bias + x (K) · b (N, K)ᵀ — the B = 1 recurrent step's matvec.
 * 8 rows of b per pass (8 independent accumulator chains, 9 loads per 32 multiply-adds),
 * so the loop is bound by loads rather than by the add latency; a 4-row tail.
 */
// @ts-ignore: decorator
@inline function rowNT(N: i32, kb: usize, x: usize, b: usize, sb: usize, c: usize, src: usize, bias: usize, act: i32): void {
  let n = 0;
  for (; n + 7 < N; n += 8) {
    const b0 = b + <usize>n * sb;
    const b1 = b0 + sb, b2 = b1 + sb, b3 = b2 + sb, b4 = b3 + sb, b5 = b4 + sb, b6 = b5 + sb, b7 = b6 + sb;
    let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
    let p4 = f32x4.splat(0), p5 = f32x4.splat(0), p6 = f32x4.splat(0), p7 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) {
      const u = v128.load(x + k);
      p0 = f32x4.add(p0, f32x4.mul(u, v128.load(b0 + k)));
      p1 = f32x4.add(p1, f32x4.mul(u, v128.load(b1 + k)));
      p2 = f32x4.add(p2, f32x4.mul(u, v128.load(b2 + k)));
      p3 = f32x4.add(p3, f32x4.mul(u, v128.load(b3 + k)));
      p4 = f32x4.add(p4, f32x4.mul(u, v128.load(b4 + k)));
      p5 = f32x4.add(p5, f32x4.mul(u, v128.load(b5 + k)));
      p6 = f32x4.add(p6, f32x4.mul(u, v128.load(b6 + k)));
      p7 = f32x4.add(p7, f32x4.mul(u, v128.load(b7 + k)));
    }
    let r0 = hsum4(p0, p1, p2, p3);
    let r1 = hsum4(p4, p5, p6, p7);
    if (bias) {
      r0 = f32x4.add(r0, v128.load(bias + (<usize>n << 2)));
      r1 = f32x4.add(r1, v128.load(bias + (<usize>(n + 4) << 2)));
    }
    if (src) {
      r0 = f32x4.add(r0, v128.load(src + (<usize>n << 2)));
      r1 = f32x4.add(r1, v128.load(src + (<usize>(n + 4) << 2)));
    }
    v128.store(c + (<usize>n << 2), vactivate(act, r0));
    v128.store(c + (<usize>(n + 4) << 2), vactivate(act, r1));
  }
  for (; n < N; n += 4) {
    const b0 = b + <usize>n * sb;
    const b1 = b0 + sb, b2 = b1 + sb, b3 = b2 + sb;
    let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) {
      const u = v128.load(x + k);
      p0 = f32x4.add(p0, f32x4.mul(u, v128.load(b0 + k)));
      p1 = f32x4.add(p1, f32x4.mul(u, v128.load(b1 + k)));
      p2 = f32x4.add(p2, f32x4.mul(u, v128.load(b2 + k)));
      p3 = f32x4.add(p3, f32x4.mul(u, v128.load(b3 + k)));
    }
    let r0 = hsum4(p0, p1, p2, p3);
    if (bias) r0 = f32x4.add(r0, v128.load(bias + (<usize>n << 2)));
    if (src) r0 = f32x4.add(r0, v128.load(src + (<usize>n << 2)));
    v128.store(c + (<usize>n << 2), vactivate(act, r0));
  }
}

/**
 * c (M, N) = src + bias + a (M, K) · b (N, K)ᵀ, float32, SIMD over K.
 *   src (M, N) with stride lds, or none (src = 0); src = c accumulates into c.
 *   bias (N) or none (bias = 0). act: Dense's activation applied last (0 = none).
 * Requires K % 4 = 0 and N % 4 = 0 (the host pads with zeros); M is any.
 * Blocking: 2 rows of a × 4 rows of b per inner loop (8 accumulators, 6 loads per 32
 * multiply-adds), rows of a in blocks of MC so that block stays in cache across b; an odd
 * last row of a block goes through rowNT (8 rows of b at a time); K in passes of KC.
 */
export function gemmNT(M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, src: usize, lds: i32, bias: usize, act: i32): void {
  if (K <= KC) {
    gemmPanel(M, N, K, a, lda, b, ldb, c, ldc, src, lds, bias, act);
    return;
  }
  // K in passes of KC: the first adds src and bias, the later ones accumulate into c, the last applies act
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const first = k0 == 0;
    const off = <usize>k0 << 2;
    gemmPanel(M, N, kc, a + off, lda, b + off, ldb, c, ldc, first ? src : c, first ? lds : ldc, first ? bias : 0, k0 + kc >= K ? act : 0);
  }
}

/** One pass of gemmNT over K ≤ KC (see gemmNT). */
// @ts-ignore: decorator
@inline function gemmPanel(M: i32, N: i32, K: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, src: usize, lds: i32, bias: usize, act: i32): void {
  const kb = <usize>K << 2;
  const sa = <usize>lda << 2;
  const sb = <usize>ldb << 2;
  for (let m0 = 0; m0 < M; m0 += MC) {
    const m1 = min(M, m0 + MC);
    for (let n = 0; n < N; n += 4) {
      const b0 = b + <usize>n * sb;
      const b1 = b0 + sb;
      const b2 = b1 + sb;
      const b3 = b2 + sb;
      const bv = bias ? v128.load(bias + (<usize>n << 2)) : f32x4.splat(0);
      for (let m = m0; m + 1 < m1; m += 2) {
        const x0 = a + <usize>m * sa;
        const x1 = x0 + sa;
        let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
        let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
        for (let k: usize = 0; k < kb; k += 16) {
          const u = v128.load(x0 + k);
          const v = v128.load(x1 + k);
          const w0 = v128.load(b0 + k);
          const w1 = v128.load(b1 + k);
          const w2 = v128.load(b2 + k);
          const w3 = v128.load(b3 + k);
          p0 = f32x4.add(p0, f32x4.mul(u, w0));
          p1 = f32x4.add(p1, f32x4.mul(u, w1));
          p2 = f32x4.add(p2, f32x4.mul(u, w2));
          p3 = f32x4.add(p3, f32x4.mul(u, w3));
          q0 = f32x4.add(q0, f32x4.mul(v, w0));
          q1 = f32x4.add(q1, f32x4.mul(v, w1));
          q2 = f32x4.add(q2, f32x4.mul(v, w2));
          q3 = f32x4.add(q3, f32x4.mul(v, w3));
        }
        let r0 = f32x4.add(hsum4(p0, p1, p2, p3), bv);
        let r1 = f32x4.add(hsum4(q0, q1, q2, q3), bv);
        if (src) {
          r0 = f32x4.add(r0, v128.load(src + ((<usize>m * <usize>lds + <usize>n) << 2)));
          r1 = f32x4.add(r1, v128.load(src + ((<usize>(m + 1) * <usize>lds + <usize>n) << 2)));
        }
        v128.store(c + ((<usize>m * <usize>ldc + <usize>n) << 2), vactivate(act, r0));
        v128.store(c + ((<usize>(m + 1) * <usize>ldc + <usize>n) << 2), vactivate(act, r1));
      }
    }
    // an odd last row of this block: the matvec path, 8 rows of b at a time
    if ((m1 - m0) & 1) rowNT(N, kb, a + <usize>(m1 - 1) * sa, b, sb, c + ((<usize>(m1 - 1) * <usize>ldc) << 2), src ? src + ((<usize>(m1 - 1) * <usize>lds) << 2) : 0, bias, act);
  }
}

// ---- packed-panel GEMM: the forward's input projections and recurrent steps ----
//
// A weight matrix W (N, K) (row-major, stride ldw: PyTorch's W_ih, W_hh) is packed once per
// weights version into panels P (⌈N/16⌉, K, 16): P[p, k, j] = W[16p + j, k], 0 past row N.
// A panel is the 16 output columns one micro-tile computes, read in order: the inner loops
// walk one pointer through it (every load at a constant offset) and one per row of a, so
// V8 keeps the whole loop in registers (a first version with 8-column panels and four row
// pointers spilled its addresses and ran at 14-22 GFLOP/s). No horizontal sums: a[m, k] is
// broadcast (one vbroadcastss) against the panel's four vectors at k.

/** P (⌈N/16⌉, K, 16) = the panels of W (N, K) (see above). */
export function packPanels(N: i32, K: i32, w: usize, ldw: i32, dst: usize): void {
  const np = (N + 15) >> 4;
  if ((N & 3) == 0 && (K & 3) == 0) {
    // 4×4 tiles transposed in registers: rows 16p + 4g … + 3 at k … k + 3 → P[p, k … k + 3, 4g … 4g + 3]
    const sw = <usize>ldw << 2;
    for (let p = 0; p < np; p++) {
      const panel = dst + <usize>p * (<usize>K << 6);
      for (let g = 0; g < 4; g++) {
        const n = 16 * p + 4 * g;
        if (n >= N) {
          for (let k = 0; k < K; k++) v128.store(panel + (<usize>k << 6) + (<usize>g << 4), f32x4.splat(0));
          continue;
        }
        const r = w + <usize>n * sw;
        for (let k = 0; k < K; k += 4) {
          const a = r + (<usize>k << 2);
          store4x4T(v128.load(a), v128.load(a + sw), v128.load(a + 2 * sw), v128.load(a + 3 * sw), panel + (<usize>k << 6) + (<usize>g << 4), 64);
        }
      }
    }
    return;
  }
  for (let p = 0; p < np; p++) {
    for (let k = 0; k < K; k++) {
      const d = dst + (<usize>(p * K + k) << 6);
      for (let j = 0; j < 16; j++) {
        const n = p * 16 + j;
        store<f32>(d + (<usize>j << 2), n < N ? load<f32>(w + ((<usize>n * <usize>ldw + <usize>k) << 2)) : 0);
      }
    }
  }
}

/** Bytes of the panels of an (N, K) matrix. */
// @ts-ignore: decorator
@inline function panelBytes(N: i32, K: i32): usize {
  return (<usize>((N + 15) >> 4) * <usize>K) << 6;
}

/** One output vector: c[n..n+4) = act(v + bias[n..] + src[n..]) (row pointers; n in bytes). */
// @ts-ignore: decorator
@inline function outVec(c: usize, src: usize, bias: usize, act: i32, n: usize, v: v128): void {
  let r = v;
  if (bias) r = f32x4.add(r, v128.load(bias + n));
  if (src) r = f32x4.add(r, v128.load(src + n));
  v128.store(c + n, vactivate(act, r));
}

/** The (up to) four vectors of one panel's columns [16p, 16p + 16) ∩ [0, N) of one row. */
// @ts-ignore: decorator
@inline function outPanel(c: usize, src: usize, bias: usize, act: i32, p: i32, N: i32, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const n = <usize>p << 6;
  const left = N - 16 * p; // columns of this panel that exist: a multiple of 4
  outVec(c, src, bias, act, n, v0);
  if (left > 4) outVec(c, src, bias, act, n + 16, v1);
  if (left > 8) outVec(c, src, bias, act, n + 32, v2);
  if (left > 12) outVec(c, src, bias, act, n + 48, v3);
}

/**
 * c (M, N) = src + bias + a (M, K) · Wᵀ with W as panels bp (packPanels(N, K, ...)), float32.
 *   src (M, N) with stride lds, or none (src = 0); bias (N) or none; act: vactivate's code.
 * Requires N % 4 = 0 and K % 2 = 0 (the host pads both to 4); M is any.
 * Micro-tiles: 2 rows of a × one panel (8 accumulators; per k 2 broadcasts and 4 loads for
 * 8 multiply-adds); an odd last row (and M = 1, the B = 1 recurrent step's matvec): 1 row ×
 * one panel, 4 accumulators, two k per pass added together before the accumulator (one add
 * of latency on each chain per two k). Measured on a (512, 128) matvec: 4.0 → 3.7 µs in
 * Node, 3.6 → 3.4 µs in Chromium; 8 accumulators (k split in even and odd halves) were
 * faster in Chromium (3.2 µs) but spilled in Node's V8 (6.6 µs). Row pairs outer, panels inner: the pair's rows stay in
 * L1 while the panels stream from L2 (W_hh of a 128-unit LSTM: 256 KiB).
 */
export function gemmPk(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32, src: usize, lds: i32, bias: usize, act: i32): void {
  const np = (N + 15) >> 4;
  const pb = <usize>K << 6; // bytes of one panel
  const sa = <usize>lda << 2;
  const sc = <usize>ldc << 2;
  const ss = <usize>lds << 2;
  let m = 0;
  for (; m + 1 < M; m += 2) {
    const x = a + <usize>m * sa;
    for (let p = 0; p < np; p++) {
      let q = bp + <usize>p * pb;
      const qEnd = q + pb;
      let x0 = x;
      let x1 = x + sa;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      while (q < qEnd) {
        const w0 = v128.load(q);
        const w1 = v128.load(q, 16);
        const w2 = v128.load(q, 32);
        const w3 = v128.load(q, 48);
        const s = v128.load32_splat(x0);
        c0 = f32x4.add(c0, f32x4.mul(s, w0));
        c1 = f32x4.add(c1, f32x4.mul(s, w1));
        c2 = f32x4.add(c2, f32x4.mul(s, w2));
        c3 = f32x4.add(c3, f32x4.mul(s, w3));
        const t = v128.load32_splat(x1);
        d0 = f32x4.add(d0, f32x4.mul(t, w0));
        d1 = f32x4.add(d1, f32x4.mul(t, w1));
        d2 = f32x4.add(d2, f32x4.mul(t, w2));
        d3 = f32x4.add(d3, f32x4.mul(t, w3));
        q += 64;
        x0 += 4;
        x1 += 4;
      }
      const r = c + <usize>m * sc;
      const sr = src ? src + <usize>m * ss : 0;
      outPanel(r, sr, bias, act, p, N, c0, c1, c2, c3);
      outPanel(r + sc, src ? sr + ss : 0, bias, act, p, N, d0, d1, d2, d3);
    }
  }
  if (m < M) {
    const x = a + <usize>m * sa;
    const r = c + <usize>m * sc;
    const sr = src ? src + <usize>m * ss : 0;
    for (let p = 0; p < np; p++) {
      let q = bp + <usize>p * pb;
      const qEnd = q + pb;
      let x0 = x;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      while (q < qEnd) { // two k per pass (K is even), summed before they meet the accumulator chain
        const s = v128.load32_splat(x0);
        const t = v128.load32_splat(x0, 4);
        c0 = f32x4.add(c0, f32x4.add(f32x4.mul(s, v128.load(q)), f32x4.mul(t, v128.load(q, 64))));
        c1 = f32x4.add(c1, f32x4.add(f32x4.mul(s, v128.load(q, 16)), f32x4.mul(t, v128.load(q, 80))));
        c2 = f32x4.add(c2, f32x4.add(f32x4.mul(s, v128.load(q, 32)), f32x4.mul(t, v128.load(q, 96))));
        c3 = f32x4.add(c3, f32x4.add(f32x4.mul(s, v128.load(q, 48)), f32x4.mul(t, v128.load(q, 112))));
        q += 128;
        x0 += 8;
      }
      outPanel(r, sr, bias, act, p, N, c0, c1, c2, c3);
    }
  }
}

/**
 * The four columns of a 4×4 block of rows r0 … r3 (in-register transpose), stored at
 * dst, dst + sd, dst + 2·sd, dst + 3·sd (sd in bytes).
 */
// @ts-ignore: decorator
@inline function store4x4T(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, sd: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + sd, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * sd, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * sd, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * dst (cols, ldd) = src (rows, cols)ᵀ with src stride lds: dst[j, i] = src[i, j]. Blocked
 * 16×16; inside a block 4×4 tiles are transposed in registers, the edges of sizes that
 * are not multiples of 4 element by element.
 */
export function transpose(rows: i32, cols: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  const ss = <usize>lds << 2;
  const sd = <usize>ldd << 2;
  for (let i0 = 0; i0 < rows; i0 += 16) {
    const i1 = min(rows, i0 + 16);
    const i4 = i0 + ((i1 - i0) & ~3);
    for (let j0 = 0; j0 < cols; j0 += 16) {
      const j1 = min(cols, j0 + 16);
      const j4 = j0 + ((j1 - j0) & ~3);
      for (let i = i0; i < i4; i += 4) {
        const s0 = src + <usize>i * ss;
        for (let j = j0; j < j4; j += 4) {
          const a = s0 + (<usize>j << 2);
          store4x4T(v128.load(a), v128.load(a + ss), v128.load(a + 2 * ss), v128.load(a + 3 * ss), dst + <usize>j * sd + (<usize>i << 2), sd);
        }
      }
      for (let i = i0; i < i1; i++) {
        for (let j = i < i4 ? j4 : j0; j < j1; j++) {
          store<f32>(dst + ((<usize>j * <usize>ldd + <usize>i) << 2), load<f32>(src + ((<usize>i * <usize>lds + <usize>j) << 2)));
        }
      }
    }
  }
}

/** dst[i] += Σ_j src[i, j] over `cols` (a multiple of 4), rows of stride lds: the bias gradients. */
export function rowSumAdd(rows: i32, cols: i32, src: usize, lds: i32, dst: usize): void {
  for (let i = 0; i < rows; i++) {
    const row = src + ((<usize>i * <usize>lds) << 2);
    let acc = f32x4.splat(0);
    for (let k: usize = 0, kb = <usize>cols << 2; k < kb; k += 16) acc = f32x4.add(acc, v128.load(row + k));
    const s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) + s);
  }
}

/** dst[i, 0:cols] = src[i, 0:cols] and dst[i, cols:colsPad] = 0, for `rows` rows (strides in floats). */
export function copyRows(rows: i32, cols: i32, colsPad: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  for (let i = 0; i < rows; i++) {
    const s = src + ((<usize>i * <usize>lds) << 2);
    const d = dst + ((<usize>i * <usize>ldd) << 2);
    memory.copy(d, s, <usize>cols << 2);
    if (colsPad > cols) memory.fill(d + (<usize>cols << 2), 0, <usize>(colsPad - cols) << 2);
  }
}

// ---- one step's gate math for one sample, 4 units at a time (recForward) ----
// Called with constant activation codes for the common case (sigmoid gates, tanh cell), so
// the inlined copy has no activation branches in its loop.

/** LSTM: i f g o from x (xg row) + p (pre row), c = f ⊙ c_prev + i ⊙ g, h = o ⊙ act(c); tp ≠ 0: the gates into the tape. */
// @ts-ignore: decorator
@inline function lstmUnits(act: i32, cellAct: i32, Hb: usize, x: usize, p: usize, cp: usize, cn: usize, hn: usize, o: usize, tp: usize): void {
  // Two passes, so that no iteration carries a chain of two activations (i f g o, then
  // act(c) after them): the first writes c and parks o in h's row, the second makes h.
  // Shorter chains let the core overlap more iterations: the (32, 64, 64, 128) gate math
  // 2.45 → 1.95 ms in Chromium, (1, 256, 64, 128) 0.21 → 0.18 ms in Node.
  for (let j: usize = 0; j < Hb; j += 16) {
    const i = vgate(act, f32x4.add(v128.load(x + j), v128.load(p + j)));
    const f = vgate(act, f32x4.add(v128.load(x + Hb + j), v128.load(p + Hb + j)));
    const g = vcell(cellAct, f32x4.add(v128.load(x + 2 * Hb + j), v128.load(p + 2 * Hb + j)));
    const og = vgate(act, f32x4.add(v128.load(x + 3 * Hb + j), v128.load(p + 3 * Hb + j)));
    v128.store(cn + j, f32x4.add(f32x4.mul(f, v128.load(cp + j)), f32x4.mul(i, g)));
    v128.store(hn + j, og);
    if (tp) {
      v128.store(tp + j, i);
      v128.store(tp + Hb + j, f);
      v128.store(tp + 2 * Hb + j, g);
      v128.store(tp + 3 * Hb + j, og);
    }
  }
  for (let j: usize = 0; j < Hb; j += 16) {
    const h = f32x4.mul(v128.load(hn + j), vcell(cellAct, v128.load(cn + j)));
    v128.store(hn + j, h);
    v128.store(o + j, h);
  }
}

/** GRU reset_after: r z from x + p, m = p's n rows (W_n h + b_n), n = act(x_n + r ⊙ m), h = n + z ⊙ (h_prev − n). */
// @ts-ignore: decorator
@inline function gruUnits(act: i32, cellAct: i32, Hb: usize, x: usize, p: usize, hp: usize, hn: usize, o: usize, tp: usize, ep: usize): void {
  // Two passes as lstmUnits: r, z and n's argument (parked in h's row; z in p's z row), then n and h.
  for (let j: usize = 0; j < Hb; j += 16) {
    const r = vgate(act, f32x4.add(v128.load(x + j), v128.load(p + j)));
    const z = vgate(act, f32x4.add(v128.load(x + Hb + j), v128.load(p + Hb + j)));
    const m = v128.load(p + 2 * Hb + j);
    v128.store(hn + j, f32x4.add(v128.load(x + 2 * Hb + j), f32x4.mul(r, m)));
    v128.store(p + Hb + j, z);
    if (tp) {
      v128.store(tp + j, r);
      v128.store(tp + Hb + j, z);
      v128.store(ep + j, m);
    }
  }
  for (let j: usize = 0; j < Hb; j += 16) {
    const n = vcell(cellAct, v128.load(hn + j));
    const z = v128.load(p + Hb + j);
    const h = f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(hp + j), n))); // (1 − z) n + z h
    v128.store(hn + j, h);
    v128.store(o + j, h);
    if (tp) v128.store(tp + 2 * Hb + j, n);
  }
}

/** GRU reset_after = false, before its second GEMM: r z from x + p (kept in p's r, z rows), r ⊙ h_prev into rrow. */
// @ts-ignore: decorator
@inline function gruRZ(act: i32, Hb: usize, x: usize, p: usize, hp: usize, rrow: usize): void {
  for (let j: usize = 0; j < Hb; j += 16) {
    const r = vgate(act, f32x4.add(v128.load(x + j), v128.load(p + j)));
    const z = vgate(act, f32x4.add(v128.load(x + Hb + j), v128.load(p + Hb + j)));
    v128.store(p + j, r);
    v128.store(p + Hb + j, z);
    v128.store(rrow + j, f32x4.mul(r, v128.load(hp + j)));
  }
}

/** GRU reset_after = false, after it: n = act(x_n + p_n) (p_n = W_n (r ⊙ h) + b_n), h = n + z ⊙ (h_prev − n). */
// @ts-ignore: decorator
@inline function gruN(cellAct: i32, Hb: usize, x: usize, p: usize, hp: usize, hn: usize, o: usize, tp: usize, ep: usize, rrow: usize): void {
  for (let j: usize = 0; j < Hb; j += 16) {
    const z = v128.load(p + Hb + j);
    const n = vcell(cellAct, f32x4.add(v128.load(x + 2 * Hb + j), v128.load(p + 2 * Hb + j)));
    const hv = v128.load(hp + j);
    const h = f32x4.add(n, f32x4.mul(z, f32x4.sub(hv, n)));
    v128.store(hn + j, h);
    v128.store(o + j, h);
    if (tp) {
      v128.store(tp + j, v128.load(p + j));
      v128.store(tp + Hb + j, z);
      v128.store(tp + 2 * Hb + j, n);
      v128.store(ep + j, v128.load(rrow + j));
    }
  }
}

/** SimpleRNN: h = act(x + p). */
// @ts-ignore: decorator
@inline function rnnUnits(cellAct: i32, Hb: usize, x: usize, p: usize, hn: usize, o: usize): void {
  for (let j: usize = 0; j < Hb; j += 16) {
    const a = f32x4.add(v128.load(x + j), v128.load(p + j));
    const h = vcell(cellAct, a);
    v128.store(hn + j, h);
    v128.store(o + j, h);
  }
}

// ---- recurrence forward: one kernel call per layer direction runs all T steps ----

/**
 * One layer direction over all steps. Per step s (time t = s, or T−1−s reversed):
 *   pre (B, Gp) = b_hh + h_s · W_hhᵀ      gemmPk over the B rows at once (the matvec when B = 1), whhP = W_hh's panels
 *   then per sample and 4 units at a time, in registers: the gates from xg[b, t] + pre,
 *   the state update, the output, and (tape ≠ 0) the gate activations for the backward.
 * GRU reset_after = false needs r before its n rows: pre of the r, z rows, then
 * rh = r ⊙ h, then pre_n = b_n + rh · W_nᵀ (a second gemmPk, on W_n's own panels), then the update.
 * A step that does not run (valid = 0) carries h and c; its output is 0, or with
 * keras = 1 the previous output of this direction (0 before the first step).
 * cell: 0 SimpleRNN, 1 GRU, 2 LSTM. cellAct: the cell activation (vcell). act: the gate activation (vgate).
 * Runs batch rows [b0, b1) of B (all of them: 0, B): samples are independent, so threads
 * take rows of their own for all T steps with no synchronization between steps.
 * scratch: (B, Gp) + (B, Hp) floats (rows [b0, b1) use their share).
 */
export function recForward(
  cell: i32, resetAfter: i32, cellAct: i32, act: i32, reverse: i32, keras: i32,
  B: i32, T: i32, Hp: i32,
  xg: usize, whhP: usize, bhh: usize, valid: usize,
  hs: usize, cs: usize, out: usize, ldo: i32,
  tape: usize, ext: usize, scratch: usize,
  b0: i32, b1: i32,
): void {
  const nG = cell == 2 ? 4 : cell == 1 ? 3 : 1;
  const Gp = nG * Hp;
  const Hb = <usize>Hp << 2;
  const Gb = <usize>Gp << 2;
  // batch rows [b0, b1) only (a thread's share; rows are independent): every pointer moves to row b0
  const Bn = b1 - b0;
  xg += <usize>b0 * <usize>T * Gb;
  valid += (<usize>b0 * <usize>T) << 2;
  out += (<usize>b0 * <usize>T * <usize>ldo) << 2;
  hs += <usize>b0 * Hb;
  if (cs) cs += <usize>b0 * Hb;
  if (tape) tape += <usize>b0 * Gb;
  if (ext) ext += <usize>b0 * Hb;
  scratch += (<usize>b0 * <usize>(Gp + Hp)) << 2;
  const pre = scratch; // (Bn, Gp)
  const rh = scratch + ((<usize>Bn * <usize>Gp) << 2); // (Bn, Hp)
  const BHb = (<usize>B * <usize>Hp) << 2; // bytes of one (B, Hp) state: the step stride of hs, cs
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = hs + <usize>s * BHb;
    const hNext = hPrev + BHb;
    const nRows = cell == 1 && !resetAfter ? 2 * Hp : Gp;
    gemmPk(Bn, nRows, Hp, hPrev, Hp, whhP, pre, Gp, 0, 0, bhh, 0);
    for (let b = 0; b < Bn; b++) {
      const hp = hPrev + <usize>b * Hb;
      const hn = hNext + <usize>b * Hb;
      const o = out + ((<usize>(b * T + t) * <usize>ldo) << 2);
      const runs = load<i32>(valid + (<usize>(b * T + t) << 2)) != 0;
      if (!runs) {
        memory.copy(hn, hp, Hb);
        if (cell == 2) memory.copy(cs + <usize>(s + 1) * BHb + <usize>b * Hb, cs + <usize>s * BHb + <usize>b * Hb, Hb);
        if (keras && s > 0) memory.copy(o, out + ((<usize>(b * T + (reverse ? t + 1 : t - 1)) * <usize>ldo) << 2), Hb);
        else memory.fill(o, 0, Hb);
        continue;
      }
      const x = xg + <usize>(b * T + t) * Gb;
      const p = pre + <usize>b * Gb;
      const tp = tape ? tape + (<usize>(s * B + b)) * Gb : 0;
      const ep = ext ? ext + (<usize>(s * B + b)) * Hb : 0;
      if (cell == 2) {
        const cp = cs + <usize>s * BHb + <usize>b * Hb;
        const cn = cp + BHb;
        if (act == 0 && cellAct == 0) lstmUnits(0, 0, Hb, x, p, cp, cn, hn, o, tp); // the common activations, specialized
        else lstmUnits(act, cellAct, Hb, x, p, cp, cn, hn, o, tp);
      } else if (cell == 1) {
        if (resetAfter) {
          if (act == 0 && cellAct == 0) gruUnits(0, 0, Hb, x, p, hp, hn, o, tp, ep);
          else gruUnits(act, cellAct, Hb, x, p, hp, hn, o, tp, ep);
        } else {
          // r and z now (kept in pre's r, z rows), r ⊙ h into rh
          const rrow = rh + <usize>b * Hb;
          if (act == 0) gruRZ(0, Hb, x, p, hp, rrow);
          else gruRZ(act, Hb, x, p, hp, rrow);
        }
      } else {
        if (cellAct == 0) rnnUnits(0, Hb, x, p, hn, o);
        else rnnUnits(cellAct, Hb, x, p, hn, o);
      }
    }
    if (cell == 1 && !resetAfter) {
      // pre_n (B, Hp) = b_n + rh · W_nᵀ, into pre's n rows; rows of samples that do not run are unused
      gemmPk(Bn, Hp, Hp, rh, Hp, whhP + panelBytes(2 * Hp, Hp), pre + 2 * Hb, Gp, 0, 0, bhh + 2 * Hb, 0); // W_n's panels, packed after W_r,z's
      for (let b = 0; b < Bn; b++) {
        if (load<i32>(valid + (<usize>(b * T + t) << 2)) == 0) continue;
        const hp = hPrev + <usize>b * Hb;
        const hn = hNext + <usize>b * Hb;
        const o = out + ((<usize>(b * T + t) * <usize>ldo) << 2);
        const x = xg + <usize>(b * T + t) * Gb;
        const p = pre + <usize>b * Gb;
        const tp = tape ? tape + (<usize>(s * B + b)) * Gb : 0;
        const ep = ext ? ext + (<usize>(s * B + b)) * Hb : 0;
        const rrow = rh + <usize>b * Hb;
        if (cellAct == 0) gruN(0, Hb, x, p, hp, hn, o, tp, ep, rrow);
        else gruN(cellAct, Hb, x, p, hp, hn, o, tp, ep, rrow);
      }
    }
  }
}

// ---- recurrence backward ----

/**
 * Backpropagation through the steps of recForward (recorded with a tape), s = T−1 … 0,
 * carrying dh (B, Hp) and dc (B, Hp) (in: ∂L/∂hN, ∂L/∂cN; out: ∂L/∂h0, ∂L/∂c0).
 * Per step, for the samples whose step runs: dhOut = dh + dout[b, t] (+ a Keras mask's
 * carried output gradient), then the cell's local derivatives (as recurrenceBackwardRef):
 *   dxg[b, t] (B, T, Gp)    ∂L/∂xg
 *   da[s, b]  (T, B, Gp)    ∂L/∂(W_hh v + b_hh), v = h (or r ⊙ h for GRU reset_after = false's n rows)
 *   dh ← dhDirect + da · W_hh  (gemmNT with W_hhᵀ's rows), dc ← dc ⊙ f
 * Steps that do not run: da, dxg stay 0 (the host zeroes them), dh, dc pass unchanged,
 * and with keras = 1 dout[b, t] is carried to the step before. The weight gradients are
 * GEMMs over the whole da and the states afterwards (host). norms ≠ 0: (T) ‖∂L/∂h_t‖.
 * scratch: 3·(B, Hp) floats.
 */
export function recBackward(
  cell: i32, resetAfter: i32, cellAct: i32, act: i32, reverse: i32, keras: i32,
  B: i32, T: i32, Hp: i32,
  whhT: usize, hs: usize, cs: usize, tape: usize, ext: usize, valid: usize,
  dout: usize, ldo: i32, dh: usize, dc: usize, dxg: usize, da: usize, norms: usize, scratch: usize,
): void {
  const nG = cell == 2 ? 4 : cell == 1 ? 3 : 1;
  const Gp = nG * Hp;
  const Hb = <usize>Hp << 2;
  const Gb = <usize>Gp << 2;
  const BHb = <usize>B * Hb;
  const dhd = scratch; // (B, Hp) the direct part of ∂L/∂h_prev
  const carry = scratch + BHb; // (B, Hp) a Keras mask's output gradient carried back
  const drh = carry + BHb; // (B, Hp) GRU reset_after = false: ∂L/∂(r ⊙ h)
  memory.fill(carry, 0, BHb);
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = hs + <usize>s * BHb;
    let sq = f32x4.splat(0);
    const daS = da + <usize>s * <usize>B * Gb;
    for (let b = 0; b < B; b++) {
      const dhb = dh + <usize>b * Hb;
      const dhdb = dhd + <usize>b * Hb;
      const ob = dout + ((<usize>(b * T + t) * <usize>ldo) << 2);
      const cb = carry + <usize>b * Hb;
      if (load<i32>(valid + (<usize>(b * T + t) << 2)) == 0) {
        for (let j: usize = 0; j < Hb; j += 16) {
          const v = v128.load(dhb + j);
          sq = f32x4.add(sq, f32x4.mul(v, v));
          if (keras) v128.store(cb + j, f32x4.add(v128.load(cb + j), v128.load(ob + j)));
        }
        memory.copy(dhdb, dhb, Hb); // dh passes unchanged (da = 0 adds nothing)
        continue;
      }
      const tp = tape + <usize>(s * B + b) * Gb;
      const ep = ext ? ext + <usize>(s * B + b) * Hb : 0;
      const a = daS + <usize>b * Gb;
      const dx = dxg + <usize>(b * T + t) * Gb;
      const hp = hPrev + <usize>b * Hb;
      for (let j: usize = 0; j < Hb; j += 16) {
        let dho = f32x4.add(v128.load(dhb + j), v128.load(ob + j));
        if (keras) {
          dho = f32x4.add(dho, v128.load(cb + j));
          v128.store(cb + j, f32x4.splat(0));
        }
        sq = f32x4.add(sq, f32x4.mul(dho, dho));
        if (cell == 2) {
          const i = v128.load(tp + j);
          const f = v128.load(tp + Hb + j);
          const g = v128.load(tp + 2 * Hb + j);
          const o = v128.load(tp + 3 * Hb + j);
          const cPrev = v128.load(cs + <usize>s * BHb + <usize>b * Hb + j);
          const tc = vcell(cellAct, f32x4.add(f32x4.mul(f, cPrev), f32x4.mul(i, g)));
          const dO = f32x4.mul(dho, tc);
          const dC = f32x4.add(v128.load(dc + <usize>b * Hb + j), f32x4.mul(f32x4.mul(dho, o), vcellGrad(cellAct, tc)));
          v128.store(dc + <usize>b * Hb + j, f32x4.mul(dC, f));
          const dai = f32x4.mul(f32x4.mul(dC, g), vgateGrad(act, i));
          const daf = f32x4.mul(f32x4.mul(dC, cPrev), vgateGrad(act, f));
          const dag = f32x4.mul(f32x4.mul(dC, i), vcellGrad(cellAct, g));
          const dao = f32x4.mul(dO, vgateGrad(act, o));
          v128.store(a + j, dai);
          v128.store(a + Hb + j, daf);
          v128.store(a + 2 * Hb + j, dag);
          v128.store(a + 3 * Hb + j, dao);
          v128.store(dx + j, dai);
          v128.store(dx + Hb + j, daf);
          v128.store(dx + 2 * Hb + j, dag);
          v128.store(dx + 3 * Hb + j, dao);
          v128.store(dhdb + j, f32x4.splat(0));
        } else if (cell == 1) {
          const r = v128.load(tp + j);
          const z = v128.load(tp + Hb + j);
          const n = v128.load(tp + 2 * Hb + j);
          const hv = v128.load(hp + j);
          const dn = f32x4.mul(dho, f32x4.sub(f32x4.splat(1), z));
          const dz = f32x4.mul(dho, f32x4.sub(hv, n));
          v128.store(dhdb + j, f32x4.mul(dho, z));
          const dan = f32x4.mul(dn, vcellGrad(cellAct, n));
          v128.store(dx + 2 * Hb + j, dan);
          const daz = f32x4.mul(dz, vgateGrad(act, z));
          v128.store(a + Hb + j, daz);
          v128.store(dx + Hb + j, daz);
          if (resetAfter) {
            v128.store(a + 2 * Hb + j, f32x4.mul(dan, r));
            const dar = f32x4.mul(f32x4.mul(dan, v128.load(ep + j)), vgateGrad(act, r));
            v128.store(a + j, dar);
            v128.store(dx + j, dar);
          } else {
            v128.store(a + 2 * Hb + j, dan);
          }
        } else {
          const hn = v128.load(hs + <usize>(s + 1) * BHb + <usize>b * Hb + j);
          const dav = f32x4.mul(dho, vcellGrad(cellAct, hn));
          v128.store(a + j, dav);
          v128.store(dx + j, dav);
          v128.store(dhdb + j, f32x4.splat(0));
        }
      }
    }
    if (norms) {
      const tot = <f64>f32x4.extract_lane(sq, 0) + <f64>f32x4.extract_lane(sq, 1) + <f64>f32x4.extract_lane(sq, 2) + <f64>f32x4.extract_lane(sq, 3);
      store<f32>(norms + (<usize>t << 2), <f32>Math.sqrt(tot));
    }
    let K = Gp;
    if (cell == 1 && !resetAfter) {
      // d(r ⊙ h) = da_n · W_n, split into r's gradient and h's direct part
      gemmNT(B, Hp, Hp, daS + 2 * Hb, Gp, whhT + 2 * Hb, Gp, drh, Hp, 0, 0, 0, 0);
      for (let b = 0; b < B; b++) {
        if (load<i32>(valid + (<usize>(b * T + t) << 2)) == 0) continue;
        const tp = tape + <usize>(s * B + b) * Gb;
        const a = daS + <usize>b * Gb;
        const dx = dxg + <usize>(b * T + t) * Gb;
        const hp = hPrev + <usize>b * Hb;
        const dhdb = dhd + <usize>b * Hb;
        for (let j: usize = 0; j < Hb; j += 16) {
          const r = v128.load(tp + j);
          const d = v128.load(drh + <usize>b * Hb + j);
          v128.store(dhdb + j, f32x4.add(v128.load(dhdb + j), f32x4.mul(d, r)));
          const dar = f32x4.mul(f32x4.mul(d, v128.load(hp + j)), vgateGrad(act, r));
          v128.store(a + j, dar);
          v128.store(dx + j, dar);
        }
      }
      K = 2 * Hp; // the n rows reach h only through r ⊙ h, done above
    }
    // dh (B, Hp) = dhDirect + da[s] · W_hh over the rows with v = h
    gemmNT(B, Hp, K, daS, Gp, whhT, Gp, dh, Hp, dhd, Hp, 0, 0);
  }
}
