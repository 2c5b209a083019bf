// The general matmul on aligned operands, 8×8 outputs per thread:
//   C (M, N) (+)= act(op(A) · op(B) + bias)
//   op(A) = A (M, K) as stored, or Aᵀ with A stored (K, M) when TRANS_A
//   op(B) = B (K, N) as stored, or Bᵀ with B stored (N, K) when TRANS_B
// It serves every matmul of the forward and backward passes whose operands allow
// vec4 loads (see the launcher, src/kernels/matmul.ts): the input projection
// x·W_ihᵀ + b_ih and Dense (TRANS_B), the weight gradients dxgᵀ·x and hsᵀ·dA
// (TRANS_A, ACCUMULATE) and the input gradient dxg·W_ih. Other shapes go to
// matmul_bias_forward.wgsl and matmul_backward.wgsl.
//
// Each operand may be a block of a wider row-major buffer: element (i, j) of A as
// stored is a[offA + i·lda + j] (in floats; the Params hold lda and offA in vec4
// units), of B likewise, of C c[offC + i·ldc + j]. Bias (N) and ACT apply only
// when hasBias = 1 / ACT ≠ 0 (the forward); ACCUMULATE adds into C.
//
// Per thread: rows r0 … r0+7, columns c0 … c0+7, in 16 vec4 accumulators
// (acc[r] columns c0…c0+3 of row r0+r, acc[8+r] columns c0+4…c0+7). Each step of
// the K loop covers 4 values of k: 8 vec4 loads of A give the rows' k…k+3 (TRANS_A:
// two vec4 per k, transposed in registers), 8 of B give two 4×4 matrices whose
// column q is B[k+q, c…c+3], and acc[r] += Bq · A[r, k…k+3] does 16 multiply-adds
// per matrix-vector product: 16 loads per 256 multiply-adds. Measured on SwiftShader
// (Chromium, 2 cores), against matmul_backward.wgsl's 1×4 outputs per thread:
//   hsᵀ·dA (128, 512, K 2048) 425 → 73 ms, dxgᵀ·x (512, 64, K 2048) 260 → 39 ms,
//   x·W_ihᵀ (2048, 512, K 64) 208 → 47 ms, dxg·W_ih (2048, 64, K 512) 213 → 40 ms.
// SwiftShader runs each invocation's loads one lane at a time, so what counts is
// multiply-adds per load; no workgroup memory (its barriers cost per thread).
// Rows or columns past the edge are clamped on load and skipped on store.
//
// Requires (checked by the launcher): K % 4 = 0; every ld and offset a multiple of
// 4 for A and B; with TRANS_A, M % 4 = 0; without TRANS_B, N % 4 = 0.
// Dispatch: (x, y) workgroups of 64 with x·y·64 ≥ ceil(M/8)·ceil(N/8); thread
//           i = gid.x + gid.y·64·x takes tile (i / tilesN, i % tilesN).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda4: u32,
  ldb4: u32,
  ldc: u32,
  offA4: u32,
  offB4: u32,
  offC: u32,
  tilesN: u32,
  hasBias: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bm: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override ACT: u32 = 0u; // see activate() in common.wgsl

// A[r, k … k+3] (A stored (M, K)); rows past M read row M−1.
fn a_row(r: u32, k: u32) -> vec4<f32> {
  return a[p.offA4 + min(r, p.M - 1u) * p.lda4 + k / 4u];
}

// B[k … k+3, n] (B stored (N, K)); columns past N read column N−1.
fn b_col(n: u32, k: u32) -> vec4<f32> {
  return bm[p.offB4 + min(n, p.N - 1u) * p.ldb4 + k / 4u];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let tile = gid.x + gid.y * nwg.x * 64u;
  let r0 = (tile / p.tilesN) * 8u;
  let c0 = (tile % p.tilesN) * 8u;
  if (r0 >= p.M) { return; }
  // vec4 index of rows r0+4 … r0+7 (TRANS_A) and of columns c0+4 … c0+7 (B as stored),
  // clamped to the last vec4 when M or N is 4 more than a multiple of 8.
  let ra0 = r0 / 4u;
  let ra1 = min(ra0 + 1u, p.M / 4u - 1u);
  let cb0 = c0 / 4u;
  let cb1 = min(cb0 + 1u, max(p.N / 4u, 1u) - 1u);

  var acc: array<vec4<f32>, 16>;
  for (var k = 0u; k < p.K; k += 4u) {
    var x: array<vec4<f32>, 8>; // x[r] = A[r0 + r, k … k+3]
    if (TRANS_A) {
      let s = p.offA4 + k * p.lda4;
      let l = p.lda4;
      let lo = transpose(mat4x4<f32>(a[s + ra0], a[s + l + ra0], a[s + 2u * l + ra0], a[s + 3u * l + ra0]));
      let hi = transpose(mat4x4<f32>(a[s + ra1], a[s + l + ra1], a[s + 2u * l + ra1], a[s + 3u * l + ra1]));
      x = array<vec4<f32>, 8>(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
    } else {
      x = array<vec4<f32>, 8>(
        a_row(r0, k), a_row(r0 + 1u, k), a_row(r0 + 2u, k), a_row(r0 + 3u, k),
        a_row(r0 + 4u, k), a_row(r0 + 5u, k), a_row(r0 + 6u, k), a_row(r0 + 7u, k),
      );
    }
    var b0: mat4x4<f32>; // column q = B[k + q, c0 … c0+3]
    var b1: mat4x4<f32>; // column q = B[k + q, c0+4 … c0+7]
    if (TRANS_B) {
      b0 = transpose(mat4x4<f32>(b_col(c0, k), b_col(c0 + 1u, k), b_col(c0 + 2u, k), b_col(c0 + 3u, k)));
      b1 = transpose(mat4x4<f32>(b_col(c0 + 4u, k), b_col(c0 + 5u, k), b_col(c0 + 6u, k), b_col(c0 + 7u, k)));
    } else {
      let s = p.offB4 + k * p.ldb4;
      let l = p.ldb4;
      b0 = mat4x4<f32>(bm[s + cb0], bm[s + l + cb0], bm[s + 2u * l + cb0], bm[s + 3u * l + cb0]);
      b1 = mat4x4<f32>(bm[s + cb1], bm[s + l + cb1], bm[s + 2u * l + cb1], bm[s + 3u * l + cb1]);
    }
    acc[0] += b0 * x[0];
    acc[1] += b0 * x[1];
    acc[2] += b0 * x[2];
    acc[3] += b0 * x[3];
    acc[4] += b0 * x[4];
    acc[5] += b0 * x[5];
    acc[6] += b0 * x[6];
    acc[7] += b0 * x[7];
    acc[8] += b1 * x[0];
    acc[9] += b1 * x[1];
    acc[10] += b1 * x[2];
    acc[11] += b1 * x[3];
    acc[12] += b1 * x[4];
    acc[13] += b1 * x[5];
    acc[14] += b1 * x[6];
    acc[15] += b1 * x[7];
  }

  for (var r = 0u; r < 8u; r++) {
    let row = r0 + r;
    if (row >= p.M) { break; }
    for (var q = 0u; q < 8u; q++) {
      let col = c0 + q;
      if (col < p.N) {
        var v = select(acc[r], acc[8u + r], q >= 4u)[q % 4u];
        if (p.hasBias == 1u) { v += bias[col]; }
        v = activate(ACT, v);
        let ci = p.offC + row * p.ldc + col;
        if (ACCUMULATE) { c[ci] += v; } else { c[ci] = v; }
      }
    }
  }
}
