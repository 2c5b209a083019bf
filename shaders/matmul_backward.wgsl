// The gradient matmuls, over all time steps at once:
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
// Dispatch: (ceil(N / 64), M) workgroups of 64, one C element per thread, a plain
//           loop over K (neighbouring threads read neighbouring B columns). No
//           workgroup-memory tiling: on SwiftShader, barrier-heavy 16×16 tiles
//           measured 2–9× slower (see matmul_bias_forward.wgsl).

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
  let col = gid.x;
  let row = gid.y;
  if (col >= p.N || row >= p.M) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    var av: f32;
    if (TRANS_A) { av = a[p.offA + k * p.lda + row]; } else { av = a[p.offA + row * p.lda + k]; }
    acc += av * bm[p.offB + k * p.ldb + col];
  }
  let ci = p.offC + row * p.ldc + col;
  if (ACCUMULATE) { c[ci] += acc; } else { c[ci] = acc; }
}
