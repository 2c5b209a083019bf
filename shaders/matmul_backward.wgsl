// The gradient matmuls, over all time steps at once:
// (Runs only for operands that are not 4-aligned, or M < 8; matmul_tiled.wgsl takes the others.)
//   TRANS_A = false:  C (M, N) (+)= A (M, K) · B (K, N)      dx = dxg · W_ih
//   TRANS_A = true:   C (M, N) (+)= A (K, M)ᵀ · B (K, N)     dW_ih = dxgᵀ·x, dW_hhᵀ = hsᵀ·dA
// Each operand may be a column block of a wider row-major buffer: element (i, j) of
// A as stored is a[offA + i·lda + j], of B bm[offB + i·ldb + j], of C
// c[offC + i·ldc + j]. Dense operands have lda = K (M with TRANS_A), ldb = ldc = N
// and zero offsets. The Keras reset_after=False GRU uses the blocks for dW_hhᵀ
// (H, G): columns [0, 2H) += hsᵀ·dA[:, :2H], columns [2H, 3H) += (r ⊙ h)ᵀ·dA[:, 2H:]
// with r ⊙ h read from block 3 of the recorded gates (T·B, 4H).
// ACCUMULATE = true adds into C (weight gradients accumulate over directions,
// windows and batches until the optimizer zeroes them); false overwrites.
// Dispatch: (ceil(N / 256), M) workgroups of 64; each thread computes four
//           neighbouring C columns of one row with a plain loop over K, so one
//           A element feeds four multiply-adds (measured 2.4–2.7× faster than one
//           column per thread on SwiftShader, results identical). No workgroup-
//           memory tiling: barrier-heavy 16×16 tiles measured 2–9× slower there.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,
  ldb: u32,
  ldc: u32,
  offA: u32,
  offB: u32,
  offC: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bm: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override ACCUMULATE: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u; // this thread's four columns: col0 … col0 + 3 (clamped at N)
  let row = gid.y;
  if (col0 >= p.N || row >= p.M) { return; }
  let n1 = min(col0 + 1u, p.N - 1u);
  let n2 = min(col0 + 2u, p.N - 1u);
  let n3 = min(col0 + 3u, p.N - 1u);
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k++) {
    var av: f32;
    if (TRANS_A) { av = a[p.offA + k * p.lda + row]; } else { av = a[p.offA + row * p.lda + k]; }
    let bb = p.offB + k * p.ldb;
    acc += av * vec4<f32>(bm[bb + col0], bm[bb + n1], bm[bb + n2], bm[bb + n3]);
  }
  let ci = p.offC + row * p.ldc + col0;
  for (var q = 0u; q < 4u; q++) {
    if (col0 + q < p.N) {
      if (ACCUMULATE) { c[ci + q] += acc[q]; } else { c[ci + q] = acc[q]; }
    }
  }
}
