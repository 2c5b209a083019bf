// Y = act(X · Wᵀ + bias): the input projection of all time steps at once
// (X = inputs as (B·T, I), W = weight_ih (G, I)) and the Dense layer.
//
// Buffers:  x (M, K) row-major · w (N, K) row-major (PyTorch layout) · bias (N) · y (M, N)
// Dispatch: (ceil(N / 64), M) workgroups of 64 threads; thread (col, row) computes
//           y[row, col] with a plain loop over K: neighbouring threads read
//           neighbouring W rows and share the x row.
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
  let col = gid.x;
  let row = gid.y;
  if (col >= p.N || row >= p.M) { return; }
  var acc = 0.0;
  let xr = row * p.K;
  let wr = col * p.K;
  for (var k = 0u; k < p.K; k++) {
    acc += x[xr + k] * w[wr + k];
  }
  if (p.hasBias == 1u) { acc += bias[col]; }
  y[row * p.N + col] = activate(ACT, acc);
}
