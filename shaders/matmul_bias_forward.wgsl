// Y = act(X · Wᵀ + bias): the input projection of all time steps at once
// (Runs only for operands that are not 4-aligned, or M < 8; matmul_tiled.wgsl takes the others.)
// (X = inputs as (B·T, I), W = weight_ih (G, I)) and the Dense layer.
//
// Buffers:  x (M, K) row-major · w (N, K) row-major (PyTorch layout) · bias (N) · y (M, N)
// Dispatch: (ceil(N / 256), M) workgroups of 64 threads; each thread computes four
//           neighbouring outputs y[row, col0 … col0+3] with a plain loop over K,
//           so one x element feeds four multiply-adds (2.3–2.7× faster than one
//           output per thread on SwiftShader, results identical).
// Why no workgroup-memory tiling: on SwiftShader (our CI's WebGPU) a 16×16 tiled
// kernel with two barriers per tile measured 9× slower at M = 1 (151 ms vs 17 ms
// for 1×64·64×512) and 2–5× slower at M = 256…2048; issue 4 revisits this on
// real GPUs.
// Assumes:  hasBias is 0 or 1; with 0, `bias` is bound but not read.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

override ACT: u32 = 0u; // see activate() in common.wgsl

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let col0 = gid.x * 4u; // this thread's four columns: col0 … col0 + 3 (clamped at N)
  let row = gid.y;
  if (col0 >= p.N || row >= p.M) { return; }
  let c1 = min(col0 + 1u, p.N - 1u);
  let c2 = min(col0 + 2u, p.N - 1u);
  let c3 = min(col0 + 3u, p.N - 1u);
  var acc = vec4<f32>(0.0);
  let xr = row * p.K;
  for (var k = 0u; k < p.K; k++) {
    acc += x[xr + k] * vec4<f32>(w[col0 * p.K + k], w[c1 * p.K + k], w[c2 * p.K + k], w[c3 * p.K + k]);
  }
  for (var q = 0u; q < 4u; q++) {
    let col = col0 + q;
    if (col < p.N) {
      var v = acc[q];
      if (p.hasBias == 1u) { v += bias[col]; }
      y[row * p.N + col] = activate(ACT, v);
    }
  }
}
